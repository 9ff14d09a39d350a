// Personal access tokens on PostgreSQL. Creation counts the person's live tokens and inserts under
// one advisory lock per person (transaction-scoped), so the cap holds across nodes.
import { and, count, desc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { PatStore } from '../ports.ts';
import { patFromRow } from '../rows.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { personalAccessTokens as pats } from './schema.ts';
import { inTransaction } from './transaction.ts';

export function createPgPatStore(db: PgDb): PatStore {
  return {
    create: (record, maxLive, now) =>
      inTransaction(db, async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.pats}::int, hashtext(${record.sub}))`);
        const [live] = await tx.select({ n: count() }).from(pats).where(and(eq(pats.sub, record.sub), isNull(pats.revokedAt), gt(pats.expiresAt, now)));
        if ((live?.n ?? 0) >= maxLive) return false;
        await tx.insert(pats).values({ ...record, scopes: record.scopes.join(' ') });
        return true;
      }),
    async findByHash(tokenHash) {
      const [row] = await db.select().from(pats).where(eq(pats.tokenHash, tokenHash)).limit(1);
      return row ? patFromRow(row) : undefined;
    },
    async list(sub, now) {
      const rows = await db.select().from(pats).where(and(eq(pats.sub, sub), gt(pats.expiresAt, now))).orderBy(desc(pats.createdAt), desc(pats.id));
      return rows.map((row) => patFromRow(row));
    },
    async revoke(id, sub, now) {
      const [row] = await db.update(pats).set({ revokedAt: now }).where(and(eq(pats.id, id), isNull(pats.revokedAt), sub === undefined ? undefined : eq(pats.sub, sub))).returning();
      return row ? patFromRow(row) : undefined;
    },
    async touch(id, now, everySeconds) {
      await db.update(pats).set({ lastUsedAt: now }).where(and(eq(pats.id, id), or(isNull(pats.lastUsedAt), lte(pats.lastUsedAt, now - everySeconds))));
    },
    async purgeExpired(now) {
      const rows = await db.delete(pats).where(lte(pats.expiresAt, now)).returning({ id: pats.id });
      return rows.length;
    },
  };
}
