// Token families: everything issued from one authorization code. Refresh tokens rotate inside a
// family; revoking the family revokes its refresh tokens, every Passport it produced and every
// Passport exchanged from those. The statements of every code redemption and refresh are prepared
// once (drizzle would build them each time).
import { refreshFromRow, type RefreshRow } from '../rows.ts';
import { and, eq, isNull } from 'drizzle-orm';
import type { FamilyStore } from '../ports.ts';
import { revokeDescendantsIn } from './delegations.ts';
import type { SqliteDb } from './db.ts';
import { familyPassports, revokedTokens, tokenFamilies } from './schema.ts';
import type { SqliteWrite } from './writer.ts';
import { preparePurge } from './purge.ts';

export function createSqliteFamilyStore(db: SqliteDb, write: SqliteWrite): FamilyStore {
  const sqlite = db.$client;
  const purgeRefresh = preparePurge(sqlite, write, 'refresh_tokens');
  const purgePassports = preparePurge(sqlite, write, 'family_passports');
  const purgeFamilies = preparePurge(sqlite, write, 'token_families');
  const familyById = sqlite.prepare<[string], { clientId: string; revokedAt: number | null; expiresAt: number }>('SELECT client_id AS clientId, revoked_at AS revokedAt, expires_at AS expiresAt FROM token_families WHERE id = ?');
  const insertFamily = sqlite.prepare<[string, string, string, number, number]>('INSERT INTO token_families (id, client_id, sub, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)');
  const insertFamilyPassport = sqlite.prepare<[string, string, number]>('INSERT INTO family_passports (family_id, jti, expires_at) VALUES (?, ?, ?)');
  const insertRevoked = sqlite.prepare<[string, string, number, number]>('INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES (?, ?, ?, ?) ON CONFLICT (jti) DO NOTHING');
  const refreshByHash = sqlite.prepare<[string], RefreshRow>('SELECT token_hash AS tokenHash, family_id AS familyId, client_id AS clientId, "grant", created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt FROM refresh_tokens WHERE token_hash = ?');
  const markRefreshUsed = sqlite.prepare<[number, string]>('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL');
  const insertRefresh = sqlite.prepare<[string, string, string, string, number, number]>('INSERT INTO refresh_tokens (token_hash, family_id, client_id, "grant", created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, NULL)');

  const revoke = db.$client.transaction((familyId: string, now: number) => {
    const family = db.select().from(tokenFamilies).where(eq(tokenFamilies.id, familyId)).get();
    if (!family) return;
    db.update(tokenFamilies).set({ revokedAt: now }).where(and(eq(tokenFamilies.id, familyId), isNull(tokenFamilies.revokedAt))).run();
    const passports = db.select().from(familyPassports).where(eq(familyPassports.familyId, familyId)).all();
    for (const passport of passports) {
      db.insert(revokedTokens).values({ jti: passport.jti, clientId: family.clientId, expiresAt: passport.expiresAt, revokedAt: now }).onConflictDoNothing().run();
    }
    // And everything agents got by exchanging them, further down the chain.
    revokeDescendantsIn(db, passports.map((p) => p.jti), now);
  });

  const addPassport = (familyId: string, jti: string, expiresAt: number, now: number) => {
    insertFamilyPassport.run(familyId, jti, expiresAt);
    const family = familyById.get(familyId);
    // A reuse detected while this Passport was being minted: it must not outlive the family.
    if (!family || family.revokedAt !== null) insertRevoked.run(jti, family?.clientId ?? '', expiresAt, now);
  };

  const rotate = (tokenHash: string, now: number) => {
    const row = refreshByHash.get(tokenHash);
    if (!row || row.expiresAt <= now) return { status: 'unknown' as const };
    const record = refreshFromRow(row);
    const won = markRefreshUsed.run(now, tokenHash).changes;
    return { status: won === 1 ? ('first' as const) : ('reused' as const), record };
  };

  return {
    async createFamily(family) {
      await write(() => insertFamily.run(family.id, family.clientId, family.sub, family.createdAt, family.expiresAt));
    },
    async addPassport(familyId, jti, expiresAt, now) {
      await write(() => addPassport(familyId, jti, expiresAt, now));
    },
    async revokeFamily(familyId, now) {
      await write(() => revoke(familyId, now));
    },
    revokeFamiliesOf: (sub, clientId, now) =>
      write(() => {
        const families = db
          .select({ id: tokenFamilies.id })
          .from(tokenFamilies)
          .where(and(eq(tokenFamilies.sub, sub), eq(tokenFamilies.clientId, clientId), isNull(tokenFamilies.revokedAt)))
          .all();
        for (const family of families) revoke(family.id, now);
        return families.length;
      }),
    async isRevoked(familyId, now) {
      const family = familyById.get(familyId);
      return !family || family.revokedAt !== null || family.expiresAt <= now;
    },
    async saveRefresh(token) {
      await write(() => insertRefresh.run(token.tokenHash, token.familyId, token.clientId, JSON.stringify(token.grant), token.createdAt, token.expiresAt));
    },
    rotateRefresh: (tokenHash, now) => write(() => rotate(tokenHash, now)),
    async findRefresh(tokenHash, now) {
      const row = refreshByHash.get(tokenHash);
      return row && row.expiresAt > now ? refreshFromRow(row) : undefined;
    },
    async purgeExpired(now) {
      return (await purgeRefresh(now)) + (await purgePassports(now)) + (await purgeFamilies(now));
    },
  };
}
