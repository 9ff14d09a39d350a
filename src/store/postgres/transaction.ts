// Transactions of the PostgreSQL repositories (READ COMMITTED, row and advisory locks) and the
// retry of one that PostgreSQL aborted to break a deadlock or a serialization failure: it was rolled
// back whole, so running it again is safe. Nothing else is retried (a constraint violation is the
// caller's answer). Must not hold a transaction open across anything but its own statements.
import { sql, type SQL } from 'drizzle-orm';
import type { PgDb } from './db.ts';
import { inStoreSpan } from '../traced.ts';

/** The handle inside `db.transaction(…)`. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

/** SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure. */
const retryable = new Set(['40P01', '40001']);
const attempts = 5;

/** Traced callers see it as one `store.transaction` span, each retry an event naming its SQLSTATE. */
export function inTransaction<T>(db: PgDb, work: (tx: PgTx) => Promise<T>): Promise<T> {
  return inStoreSpan('store.transaction', { 'db.system.name': 'postgresql' }, async (span) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction(work);
      } catch (error) {
        if (attempt >= attempts || !retryable.has(sqlStateOf(error) ?? '')) throw error;
        span?.addEvent('retry', { 'db.response.status_code': sqlStateOf(error) ?? '' });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  });
}

/** The SQLSTATE of a driver error, also when drizzle wrapped it (`cause`). */
function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Classes of the lineage advisory locks (two-int form: class, hashtext(id)), apart from the keys in
 * ./locks.ts. A hash collision only makes two unrelated ids wait for each other; it never lets a
 * conflict through.
 */
export const lockClass = { passport: 7_400_101, delegation: 7_400_102 } as const;

/** Shared transaction-scoped advisory lock on one id: many holders, excluded by `exclusiveLock`. */
export function sharedLock(kind: keyof typeof lockClass, id: string): SQL {
  return sql`SELECT pg_advisory_xact_lock_shared(${lockClass[kind]}::int, hashtext(${id}))`;
}

export function exclusiveLock(kind: keyof typeof lockClass, id: string): SQL {
  return sql`SELECT pg_advisory_xact_lock(${lockClass[kind]}::int, hashtext(${id}))`;
}

/** A bigint (or count) column of a raw row: node-postgres returns int8 as a string. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrUndefined(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : num(value);
}
