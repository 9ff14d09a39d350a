// Pushed requests, pending authorization requests and codes. Single use is enforced by the
// database: DELETE … RETURNING for request_uris, a conditional UPDATE for codes.
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { AuthorizationStore, CodeRecord, IssuedGrant } from '../ports.ts';
import type { SqliteDb } from './open.ts';
import { authorizationCodes, authorizationRequests, pushedRequests } from './schema.ts';

export function createSqliteAuthorizationStore(db: SqliteDb): AuthorizationStore {
  const redeem = db.$client.transaction((codeHash: string, now: number) => {
    const row = db.select().from(authorizationCodes).where(eq(authorizationCodes.codeHash, codeHash)).get();
    if (!row || row.expiresAt <= now) return { status: 'unknown' as const };
    const record = toCodeRecord(row);
    const won = db
      .update(authorizationCodes)
      .set({ usedAt: now })
      .where(and(eq(authorizationCodes.codeHash, codeHash), isNull(authorizationCodes.usedAt)))
      .run().changes;
    return { status: won === 1 ? ('first' as const) : ('reused' as const), record };
  });

  return {
    async savePushed(request) {
      db.insert(pushedRequests).values({ ...request, params: JSON.stringify(request.params) }).run();
    },
    async takePushed(idHash, now) {
      const row = db.delete(pushedRequests).where(eq(pushedRequests.idHash, idHash)).returning().get();
      if (!row || row.expiresAt <= now) return undefined;
      return { ...row, params: JSON.parse(row.params) as Record<string, string | string[]> };
    },
    async saveRequest(request) {
      db.insert(authorizationRequests).values({ ...request, request: JSON.stringify(request.request) }).run();
    },
    async findRequest(idHash, now) {
      const row = db
        .select()
        .from(authorizationRequests)
        .where(and(eq(authorizationRequests.idHash, idHash), gt(authorizationRequests.expiresAt, now)))
        .get();
      return row ? { ...row, request: JSON.parse(row.request) as Record<string, unknown> } : undefined;
    },
    async deleteRequest(idHash) {
      return db.delete(authorizationRequests).where(eq(authorizationRequests.idHash, idHash)).run().changes === 1;
    },
    async saveCode(code) {
      db.insert(authorizationCodes).values({ ...code, grant: JSON.stringify(code.grant), usedAt: null }).run();
    },
    async findCode(codeHash, now) {
      const row = db.select().from(authorizationCodes).where(eq(authorizationCodes.codeHash, codeHash)).get();
      return row && row.expiresAt > now ? toCodeRecord(row) : undefined;
    },
    async redeemCode(codeHash, now) {
      return redeem.immediate(codeHash, now);
    },
    async purgeExpired(now) {
      // Used codes are kept until they expire, so that a late reuse is still recognised.
      return (
        db.delete(pushedRequests).where(lt(pushedRequests.expiresAt, now)).run().changes +
        db.delete(authorizationRequests).where(lt(authorizationRequests.expiresAt, now)).run().changes +
        db.delete(authorizationCodes).where(lt(authorizationCodes.expiresAt, now)).run().changes
      );
    },
  };
}

function toCodeRecord(row: typeof authorizationCodes.$inferSelect): CodeRecord {
  return { codeHash: row.codeHash, clientId: row.clientId, familyId: row.familyId, grant: JSON.parse(row.grant) as IssuedGrant, expiresAt: row.expiresAt };
}
