// Signing keys on PostgreSQL. Inserts are serialized by a transaction advisory lock, so when several
// nodes start together and each finds no signing key for an algorithm, exactly one first key is
// created (`onlyIfNoneActive`); the others see it and insert nothing.
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { KeyRecord, KeyStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { signingKeys } from './schema.ts';

export function createPgKeyStore(db: PgDb): KeyStore {
  return {
    async list() {
      const rows = await db.select().from(signingKeys).orderBy(asc(signingKeys.activatesAt), asc(signingKeys.createdAt));
      return rows.map((row) => ({
        kid: row.kid,
        alg: row.alg as KeyRecord['alg'],
        publicJwk: JSON.parse(row.publicJwk),
        privateJwk: JSON.parse(row.privateJwk),
        createdAt: row.createdAt,
        activatesAt: row.activatesAt,
      }));
    },
    async insert(record, options = {}) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.signingKeys}::bigint)`);
        if (options.onlyIfNoneActive) {
          const active = await tx
            .select({ kid: signingKeys.kid })
            .from(signingKeys)
            .where(and(eq(signingKeys.alg, record.alg), lte(signingKeys.activatesAt, record.activatesAt)))
            .limit(1);
          if (active.length > 0) return false;
        }
        await tx.insert(signingKeys).values({
          kid: record.kid,
          alg: record.alg,
          publicJwk: JSON.stringify(record.publicJwk),
          privateJwk: JSON.stringify(record.privateJwk),
          createdAt: record.createdAt,
          activatesAt: record.activatesAt,
        });
        return true;
      });
    },
  };
}
