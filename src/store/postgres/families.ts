// Token families on PostgreSQL: everything issued from one authorization code. Refresh rotation is
// one conditional UPDATE (exactly one caller, on any node, sees `first`). Revoking a family and
// adding a Passport to it lock the family row (FOR UPDATE / FOR SHARE) in one transaction each, so
// a Passport added while another node revokes the family is either seen by the revocation or sees
// the family revoked and is revoked at once. Must not decide any of this with a JS read before a write.
import { refreshFromRow } from '../rows.ts';
import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { FamilyStore, Redemption, RefreshRecord } from '../ports.ts';
import type { PgDb } from './db.ts';
import { revokeDescendantsIn } from './delegations.ts';
import { familyPassports, refreshTokens, revokedTokens, tokenFamilies } from './schema.ts';
import { inTransaction, num, type PgTx } from './transaction.ts';

type RefreshRow = { token_hash: string; family_id: string; client_id: string; grant: string; created_at: string | number; expires_at: string | number; won: number };

/** Revokes a family, its Passports and everything exchanged from them; in the caller's transaction. */
async function revokeIn(tx: PgTx, familyId: string, now: number): Promise<void> {
  const [family] = await tx.select({ clientId: tokenFamilies.clientId }).from(tokenFamilies).where(eq(tokenFamilies.id, familyId)).for('update');
  if (!family) return;
  await tx.update(tokenFamilies).set({ revokedAt: now }).where(and(eq(tokenFamilies.id, familyId), isNull(tokenFamilies.revokedAt)));
  // Read after the row lock: every Passport added before it is here; later ones see the family revoked.
  const passports = await tx.execute<{ jti: string }>(sql`
    WITH passports AS (SELECT jti, expires_at FROM family_passports WHERE family_id = ${familyId}),
    revoked AS (
      INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
      SELECT jti, ${family.clientId}, expires_at, ${now} FROM passports ORDER BY jti
      ON CONFLICT (jti) DO NOTHING)
    SELECT jti FROM passports`);
  // And everything agents got by exchanging them, further down the chain.
  await revokeDescendantsIn(tx, passports.rows.map((p) => p.jti), now);
}

export function createPgFamilyStore(db: PgDb): FamilyStore {
  return {
    async createFamily(family) {
      await db.insert(tokenFamilies).values({ id: family.id, clientId: family.clientId, sub: family.sub, createdAt: family.createdAt, expiresAt: family.expiresAt, revokedAt: null });
    },
    async addPassport(familyId, jti, expiresAt, now) {
      await inTransaction(db, async (tx) => {
        // FOR SHARE: Passports of one family are added side by side; a revocation waits for them, or they for it.
        const [family] = await tx.select({ clientId: tokenFamilies.clientId, revokedAt: tokenFamilies.revokedAt }).from(tokenFamilies).where(eq(tokenFamilies.id, familyId)).for('share');
        await tx.insert(familyPassports).values({ familyId, jti, expiresAt });
        // A reuse detected while this Passport was being minted: it must not outlive the family.
        if (!family || family.revokedAt !== null) await tx.insert(revokedTokens).values({ jti, clientId: family?.clientId ?? '', expiresAt, revokedAt: now }).onConflictDoNothing();
      });
    },
    async revokeFamily(familyId, now) {
      await inTransaction(db, (tx) => revokeIn(tx, familyId, now));
    },
    revokeFamiliesOf: (sub, clientId, now) =>
      inTransaction(db, async (tx) => {
        const families = await tx
          .select({ id: tokenFamilies.id })
          .from(tokenFamilies)
          .where(and(eq(tokenFamilies.sub, sub), eq(tokenFamilies.clientId, clientId), isNull(tokenFamilies.revokedAt)))
          .orderBy(asc(tokenFamilies.id))
          .for('update');
        for (const family of families) await revokeIn(tx, family.id, now);
        return families.length;
      }),
    async isRevoked(familyId, now) {
      const [family] = await db.select({ revokedAt: tokenFamilies.revokedAt, expiresAt: tokenFamilies.expiresAt }).from(tokenFamilies).where(eq(tokenFamilies.id, familyId));
      return !family || family.revokedAt !== null || family.expiresAt <= now;
    },
    async saveRefresh(token) {
      await db.insert(refreshTokens).values({ tokenHash: token.tokenHash, familyId: token.familyId, clientId: token.clientId, grant: JSON.stringify(token.grant), createdAt: token.createdAt, expiresAt: token.expiresAt, usedAt: null });
    },
    async rotateRefresh(tokenHash, now) {
      // One statement, as for codes: the UPDATE picks the winner, the SELECT (same snapshot) tells reused from unknown.
      const result = await db.execute<RefreshRow>(sql`
        WITH won AS (
          UPDATE refresh_tokens SET used_at = ${now}
          WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > ${now}
          RETURNING token_hash)
        SELECT r.token_hash, r.family_id, r.client_id, r."grant", r.created_at, r.expires_at, (SELECT count(*) FROM won)::int AS won
        FROM refresh_tokens r WHERE r.token_hash = ${tokenHash}`);
      return rotation(result.rows[0], now);
    },
    async findRefresh(tokenHash, now) {
      const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
      return row && row.expiresAt > now ? refreshFromRow(row) : undefined;
    },
    async purgeExpired(now) {
      const counts = await Promise.all([
        db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)),
        db.delete(familyPassports).where(lt(familyPassports.expiresAt, now)),
        db.delete(tokenFamilies).where(lt(tokenFamilies.expiresAt, now)),
      ]);
      return counts.reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
    },
  };
}

function rotation(row: RefreshRow | undefined, now: number): Redemption<RefreshRecord> {
  if (!row || num(row.expires_at) <= now) return { status: 'unknown' };
  const record = refreshFromRow({ tokenHash: row.token_hash, familyId: row.family_id, clientId: row.client_id, grant: row.grant, createdAt: num(row.created_at), expiresAt: num(row.expires_at) });
  return { status: num(row.won) === 1 ? 'first' : 'reused', record };
}
