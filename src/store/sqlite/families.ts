// Token families: everything issued from one authorization code. Refresh tokens rotate inside a
// family; revoking the family revokes its refresh tokens, every Passport it produced and every
// Passport exchanged from those.
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { FamilyStore, IssuedGrant, RefreshRecord } from '../ports.ts';
import { revokeDescendantsIn } from './delegations.ts';
import type { SqliteDb } from './open.ts';
import { familyPassports, refreshTokens, revokedTokens, tokenFamilies } from './schema.ts';

export function createSqliteFamilyStore(db: SqliteDb): FamilyStore {
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

  const addPassport = db.$client.transaction((familyId: string, jti: string, expiresAt: number, now: number) => {
    db.insert(familyPassports).values({ familyId, jti, expiresAt }).run();
    const family = db.select().from(tokenFamilies).where(eq(tokenFamilies.id, familyId)).get();
    // A reuse detected while this Passport was being minted: it must not outlive the family.
    if (!family || family.revokedAt !== null) {
      db.insert(revokedTokens).values({ jti, clientId: family?.clientId ?? '', expiresAt, revokedAt: now }).onConflictDoNothing().run();
    }
  });

  const rotate = db.$client.transaction((tokenHash: string, now: number) => {
    const row = db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();
    if (!row || row.expiresAt <= now) return { status: 'unknown' as const };
    const record = toRecord(row);
    const won = db
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt)))
      .run().changes;
    return { status: won === 1 ? ('first' as const) : ('reused' as const), record };
  });

  return {
    async createFamily(family) {
      db.insert(tokenFamilies).values({ ...family, revokedAt: null }).run();
    },
    async addPassport(familyId, jti, expiresAt, now) {
      addPassport.immediate(familyId, jti, expiresAt, now);
    },
    async revokeFamily(familyId, now) {
      revoke.immediate(familyId, now);
    },
    async revokeFamiliesOf(sub, clientId, now) {
      const families = db
        .select({ id: tokenFamilies.id })
        .from(tokenFamilies)
        .where(and(eq(tokenFamilies.sub, sub), eq(tokenFamilies.clientId, clientId), isNull(tokenFamilies.revokedAt)))
        .all();
      for (const family of families) revoke.immediate(family.id, now);
      return families.length;
    },
    async isRevoked(familyId, now) {
      const family = db.select().from(tokenFamilies).where(eq(tokenFamilies.id, familyId)).get();
      return !family || family.revokedAt !== null || family.expiresAt <= now;
    },
    async saveRefresh(token) {
      db.insert(refreshTokens).values({ ...token, grant: JSON.stringify(token.grant), usedAt: null }).run();
    },
    async rotateRefresh(tokenHash, now) {
      return rotate.immediate(tokenHash, now);
    },
    async findRefresh(tokenHash, now) {
      const row = db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();
      return row && row.expiresAt > now ? toRecord(row) : undefined;
    },
    async purgeExpired(now) {
      return (
        db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)).run().changes +
        db.delete(familyPassports).where(lt(familyPassports.expiresAt, now)).run().changes +
        db.delete(tokenFamilies).where(lt(tokenFamilies.expiresAt, now)).run().changes
      );
    },
  };
}

function toRecord(row: typeof refreshTokens.$inferSelect): RefreshRecord {
  return { tokenHash: row.tokenHash, familyId: row.familyId, clientId: row.clientId, grant: JSON.parse(row.grant) as IssuedGrant, createdAt: row.createdAt, expiresAt: row.expiresAt };
}
