// Pushed requests, pending authorization requests and codes on PostgreSQL. Single use holds across
// nodes because each rule is one statement: a conditional UPDATE binds a request_uri to its first
// browser (and another marks it used up), a conditional UPDATE … WHERE used_at IS NULL redeems a code (the row lock makes concurrent redeemers wait and
// re-check, so exactly one sees its row updated). Must not read a code and then mark it in JS.
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { pushedFromRow, pushedKeepSeconds, pushedRefusal } from '../rows.ts';
import type { AuthorizationStore, CodeRecord, IssuedGrant, PushedPresentation, Redemption } from '../ports.ts';
import type { PgDb } from './db.ts';
import { authorizationCodes, authorizationRequests, pushedRequests } from './schema.ts';
import { num } from './transaction.ts';

type CodeRow = { codeHash: string; clientId: string; familyId: string; grant: string; expiresAt: number };

export function createPgAuthorizationStore(db: PgDb): AuthorizationStore {
  return {
    async savePushed(request) {
      await db.insert(pushedRequests).values({ ...request, params: JSON.stringify(request.params) });
    },
    async presentPushed(idHash, clientId, browserHash, now): Promise<PushedPresentation> {
      // One statement binds it to the first browser: of two browsers presenting it at once on two
      // nodes, the row lock lets exactly one through; the other re-checks and finds it bound.
      const p = pushedRequests;
      const [bound] = await db
        .update(p)
        .set({ browserHash })
        .where(and(eq(p.idHash, idHash), eq(p.clientId, clientId), gt(p.expiresAt, now), isNull(p.completedAt), or(isNull(p.browserHash), eq(p.browserHash, browserHash))))
        .returning();
      if (bound) return { status: 'ok', request: pushedFromRow(bound) };
      // Refused: read why, for the words of the page.
      const [row] = await db.select().from(p).where(eq(p.idHash, idHash));
      const refusal = pushedRefusal(row, clientId, browserHash, now) ?? 'other_browser';
      // Presented by another client: a leaked request_uri dies on its first misuse.
      if (refusal === 'other_client') await db.update(p).set({ completedAt: now }).where(and(eq(p.idHash, idHash), isNull(p.completedAt)));
      return { status: refusal };
    },
    async completePushed(idHash, now) {
      const done = await db.execute<{ won: number; present: number }>(sql`
        WITH won AS (UPDATE pushed_requests SET completed_at = ${now} WHERE id_hash = ${idHash} AND completed_at IS NULL RETURNING id_hash)
        SELECT (SELECT count(*) FROM won)::int AS won, (SELECT count(*) FROM pushed_requests WHERE id_hash = ${idHash})::int AS present`);
      const row = done.rows[0];
      return row !== undefined && (row.won === 1 || row.present === 0);
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
      // Used codes are kept until they expire, so that a late reuse is still recognised; pushed
      // requests as long as an authorization they started may still be answered (pushedKeepSeconds).
      const counts = await Promise.all([
        db.delete(pushedRequests).where(lt(pushedRequests.expiresAt, now - pushedKeepSeconds)),
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
