// Single-use ids (client assertion jti, DPoP proof jti), revoked Passports, server secrets, on
// PostgreSQL. Each rule is one statement: the primary key decides which of several nodes wins.
import { eq, lt } from 'drizzle-orm';
import type { ReplayStore, RevocationStore, SecretStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { revokedTokens, serverSecrets, usedIds } from './schema.ts';

export function createPgReplayStore(db: PgDb): ReplayStore {
  return {
    async useOnce(scope, id, expiresAt) {
      // INSERT … ON CONFLICT DO NOTHING: of several nodes using the same id at once, one inserts the row.
      const result = await db.insert(usedIds).values({ scope, id, expiresAt }).onConflictDoNothing();
      return result.rowCount === 1;
    },
    async purgeExpired(now) {
      return (await db.delete(usedIds).where(lt(usedIds.expiresAt, now))).rowCount ?? 0;
    },
  };
}

export function createPgRevocationStore(db: PgDb): RevocationStore {
  return {
    async revoke(jti, clientId, expiresAt, now) {
      await db.insert(revokedTokens).values({ jti, clientId, expiresAt, revokedAt: now }).onConflictDoNothing();
    },
    async isRevoked(jti) {
      return (await db.select({ jti: revokedTokens.jti }).from(revokedTokens).where(eq(revokedTokens.jti, jti)).limit(1)).length > 0;
    },
    async purgeExpired(now) {
      return (await db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, now))).rowCount ?? 0;
    },
  };
}

export function createPgSecretStore(db: PgDb): SecretStore {
  return {
    async getOrCreate(name, value, now) {
      // The first insert wins; every node then reads the committed winner.
      await db.insert(serverSecrets).values({ name, value, createdAt: now }).onConflictDoNothing();
      const [row] = await db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, name));
      if (!row) throw new Error(`server secret ${name} vanished`);
      return row.value;
    },
  };
}
