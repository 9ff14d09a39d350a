// Signing keys in SQLite. A first key (`onlyIfNoneActive`) is checked and inserted in one IMMEDIATE
// transaction, so a second process on the same file (the CLI) cannot add another one at once.
import { and, asc, eq, lte } from 'drizzle-orm';
import type { KeyRecord, KeyStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { signingKeys } from './schema.ts';

export function createSqliteKeyStore(db: SqliteDb): KeyStore {
  const insert = db.$client.transaction((record: KeyRecord, onlyIfNoneActive: boolean): boolean => {
    if (onlyIfNoneActive) {
      const active = db
        .select({ kid: signingKeys.kid })
        .from(signingKeys)
        .where(and(eq(signingKeys.alg, record.alg), lte(signingKeys.activatesAt, record.activatesAt)))
        .limit(1)
        .get();
      if (active) return false;
    }
    db.insert(signingKeys)
      .values({
        kid: record.kid,
        alg: record.alg,
        publicJwk: JSON.stringify(record.publicJwk),
        privateJwk: JSON.stringify(record.privateJwk),
        createdAt: record.createdAt,
        activatesAt: record.activatesAt,
      })
      .run();
    return true;
  });
  return {
    async list() {
      return db
        .select()
        .from(signingKeys)
        .orderBy(asc(signingKeys.activatesAt), asc(signingKeys.createdAt))
        .all()
        .map((row) => ({
          kid: row.kid,
          alg: row.alg as KeyRecord['alg'],
          publicJwk: JSON.parse(row.publicJwk),
          privateJwk: JSON.parse(row.privateJwk),
          createdAt: row.createdAt,
          activatesAt: row.activatesAt,
        }));
    },
    async insert(record, options = {}) {
      return insert.immediate(record, options.onlyIfNoneActive ?? false);
    },
  };
}
