// Pushed requests, pending authorization requests and codes on PostgreSQL. Single use holds across
// nodes because each rule is one statement: DELETE … RETURNING takes a request_uri, a conditional
// UPDATE … WHERE used_at IS NULL redeems a code (the row lock makes concurrent redeemers wait and
// re-check, so exactly one sees its row updated). Must not read a code and then mark it in JS.
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { AuthorizationStore, CodeRecord, IssuedGrant, Redemption } from '../ports.ts';
import type { PgDb } from './db.ts';
import { authorizationCodes, authorizationRequests, pushedRequests } from './schema.ts';
import { num } from './transaction.ts';

type CodeRow = { codeHash: string; clientId: string; familyId: string; grant: string; expiresAt: number };

export function createPgAuthorizationStore(db: PgDb): AuthorizationStore {
  return {
    async savePushed(request) {
      await db.insert(pushedRequests).values({ ...request, params: JSON.stringify(request.params) });
    },
    async takePushed(idHash, now) {
      const [row] = await db.delete(pushedRequests).where(eq(pushedRequests.idHash, idHash)).returning();
      if (!row || row.expiresAt <= now) return undefined;
      return { ...row, params: JSON.parse(row.params) as Record<string, string | string[]> };
    },
    async saveRequest(request) {
      await db.insert(authorizationRequests).values({ ...request, request: JSON.stringify(request.request) });
    },
    async findRequest(idHash, now) {
      const [row] = await db
        .select()
        .from(authorizationRequests)
        .where(and(eq(authorizationRequests.idHash, idHash), gt(authorizationRequests.expiresAt, now)));
      return row ? { ...row, request: JSON.parse(row.request) as Record<string, unknown> } : undefined;
    },
    async deleteRequest(idHash) {
      const result = await db.delete(authorizationRequests).where(eq(authorizationRequests.idHash, idHash));
      return result.rowCount === 1;
    },
    async saveCode(code) {
      await db.insert(authorizationCodes).values({ codeHash: code.codeHash, clientId: code.clientId, familyId: code.familyId, grant: JSON.stringify(code.grant), expiresAt: code.expiresAt, usedAt: null });
    },
    async findCode(codeHash, now) {
      const [row] = await db
        .select({ codeHash: authorizationCodes.codeHash, clientId: authorizationCodes.clientId, familyId: authorizationCodes.familyId, grant: authorizationCodes.grant, expiresAt: authorizationCodes.expiresAt })
        .from(authorizationCodes)
        .where(eq(authorizationCodes.codeHash, codeHash));
      return row && row.expiresAt > now ? toCodeRecord(row) : undefined;
    },
    async redeemCode(codeHash, now) {
      // One statement: the UPDATE decides the winner; the SELECT reads the row from the same
      // snapshot, so a loser tells `reused` (the row is there) from `unknown` without a second look.
      const result = await db.execute<{ code_hash: string; client_id: string; family_id: string; grant: string; expires_at: string | number; won: number }>(sql`
        WITH won AS (
          UPDATE authorization_codes SET used_at = ${now}
          WHERE code_hash = ${codeHash} AND used_at IS NULL AND expires_at > ${now}
          RETURNING code_hash)
        SELECT c.code_hash, c.client_id, c.family_id, c."grant", c.expires_at, (SELECT count(*) FROM won)::int AS won
        FROM authorization_codes c WHERE c.code_hash = ${codeHash}`);
      return redemption(result.rows[0], now);
    },
    async purgeExpired(now) {
      // Used codes are kept until they expire, so that a late reuse is still recognised.
      const counts = await Promise.all([
        db.delete(pushedRequests).where(lt(pushedRequests.expiresAt, now)),
        db.delete(authorizationRequests).where(lt(authorizationRequests.expiresAt, now)),
        db.delete(authorizationCodes).where(lt(authorizationCodes.expiresAt, now)),
      ]);
      return counts.reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
    },
  };
}

function redemption(row: { code_hash: string; client_id: string; family_id: string; grant: string; expires_at: string | number; won: number } | undefined, now: number): Redemption<CodeRecord> {
  if (!row || num(row.expires_at) <= now) return { status: 'unknown' };
  const record = toCodeRecord({ codeHash: row.code_hash, clientId: row.client_id, familyId: row.family_id, grant: row.grant, expiresAt: num(row.expires_at) });
  return { status: num(row.won) === 1 ? 'first' : 'reused', record };
}

function toCodeRecord(row: CodeRow): CodeRecord {
  return { codeHash: row.codeHash, clientId: row.clientId, familyId: row.familyId, grant: JSON.parse(row.grant) as IssuedGrant, expiresAt: row.expiresAt };
}
