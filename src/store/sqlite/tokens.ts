// Single-use ids (client assertion jti, DPoP proof jti), revoked Passports, server secrets.
import { eq, sql } from 'drizzle-orm';
import type { ReplayStore, RevocationStore, SecretStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { revokedTokens, serverSecrets, usedIds } from './schema.ts';
import type { SqliteWrite } from './writer.ts';
import { preparePurge } from './purge.ts';

export function createSqliteReplayStore(db: SqliteDb, write: SqliteWrite): ReplayStore {
  // The primary key makes this atomic: a second insert of the same (scope, id) changes nothing.
  const use = db
    .insert(usedIds)
    .values({ scope: sql.placeholder('scope'), id: sql.placeholder('id'), expiresAt: sql.placeholder('expiresAt') })
    .onConflictDoNothing()
    .prepare();
  return {
    async useOnce(scope, id, expiresAt) {
      return write(() => use.run({ scope, id, expiresAt }).changes === 1);
    },
    purgeExpired: preparePurge(db.$client, write, 'used_ids'),
  };
}

export function createSqliteRevocationStore(db: SqliteDb, write: SqliteWrite): RevocationStore {
  // Asked on every introspection: a plain prepared statement (drizzle's mapping cost more than the lookup).
  const lookup = db.$client.prepare<[string], number>('SELECT 1 FROM revoked_tokens WHERE jti = ?').pluck();
  return {
    async revoke(jti, clientId, expiresAt, now) {
      await write(() => db.insert(revokedTokens).values({ jti, clientId, expiresAt, revokedAt: now }).onConflictDoNothing().run());
    },
    async isRevoked(jti) {
      return lookup.get(jti) !== undefined;
    },
    purgeExpired: preparePurge(db.$client, write, 'revoked_tokens'),
  };
}

export function createSqliteSecretStore(db: SqliteDb): SecretStore {
  return {
    async getOrCreate(name, value, now) {
      db.insert(serverSecrets).values({ name, value, createdAt: now }).onConflictDoNothing().run();
      return (db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, name)).get() as { value: string }).value;
    },
  };
}
