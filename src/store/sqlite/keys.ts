import { asc } from 'drizzle-orm';
import type { KeyRecord, KeyStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { signingKeys } from './schema.ts';

export function createSqliteKeyStore(db: SqliteDb): KeyStore {
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
    async insert(record) {
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
    },
  };
}
