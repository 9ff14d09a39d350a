// Pushed requests, pending authorization requests and codes. Single use is enforced by the
// database: a request_uri is bound to its first browser and used up on completion inside one write
// (read and update run together in the writer's transaction), a conditional UPDATE for codes. The
// code statements run on every redemption and are prepared once (drizzle would build them each time).
import { and, eq, gt, isNull } from 'drizzle-orm';
import { pushedFromRow, pushedKeepSeconds, pushedRefusal } from '../rows.ts';
import type { AuthorizationStore, CodeRecord, IssuedGrant, PushedPresentation } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { authorizationRequests, pushedRequests } from './schema.ts';
import type { SqliteWrite } from './writer.ts';
import { preparePurge } from './purge.ts';

type CodeRow = { codeHash: string; clientId: string; familyId: string; grant: string; expiresAt: number };

export function createSqliteAuthorizationStore(db: SqliteDb, write: SqliteWrite): AuthorizationStore {
  const sqlite = db.$client;
  const purgePushed = preparePurge(sqlite, write, 'pushed_requests');
  const purgeRequests = preparePurge(sqlite, write, 'authorization_requests');
  const purgeCodes = preparePurge(sqlite, write, 'authorization_codes');
  const codeByHash = sqlite.prepare<[string], CodeRow>('SELECT code_hash AS codeHash, client_id AS clientId, family_id AS familyId, "grant", expires_at AS expiresAt FROM authorization_codes WHERE code_hash = ?');
  const markUsed = sqlite.prepare<[number, string]>('UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL');
  const insertCode = sqlite.prepare<[string, string, string, string, number]>('INSERT INTO authorization_codes (code_hash, client_id, family_id, "grant", expires_at, used_at) VALUES (?, ?, ?, ?, ?, NULL)');
  const redeem = (codeHash: string, now: number) => {
    const row = codeByHash.get(codeHash);
    if (!row || row.expiresAt <= now) return { status: 'unknown' as const };
    const record = toCodeRecord(row);
    const won = markUsed.run(now, codeHash).changes;
    return { status: won === 1 ? ('first' as const) : ('reused' as const), record };
  };

  return {
    async savePushed(request) {
      await write(() => db.insert(pushedRequests).values({ ...request, params: JSON.stringify(request.params) }).run());
    },
    presentPushed: (idHash, clientId, browserHash, now) =>
      write((): PushedPresentation => {
        const row = db.select().from(pushedRequests).where(eq(pushedRequests.idHash, idHash)).get();
        const refusal = pushedRefusal(row, clientId, browserHash, now);
        // Presented by another client: a leaked request_uri dies on its first misuse.
        if (refusal === 'other_client') db.update(pushedRequests).set({ completedAt: now }).where(and(eq(pushedRequests.idHash, idHash), isNull(pushedRequests.completedAt))).run();
        if (refusal || !row) return { status: refusal ?? 'unknown' };
        if (row.browserHash === null) db.update(pushedRequests).set({ browserHash }).where(eq(pushedRequests.idHash, idHash)).run();
        return { status: 'ok', request: pushedFromRow(row) };
      }),
    completePushed: (idHash, now) =>
      write(() => {
        if (db.update(pushedRequests).set({ completedAt: now }).where(and(eq(pushedRequests.idHash, idHash), isNull(pushedRequests.completedAt))).run().changes === 1) return true;
        return db.select({ idHash: pushedRequests.idHash }).from(pushedRequests).where(eq(pushedRequests.idHash, idHash)).get() === undefined;
      }),
    async saveRequest(request) {
      await write(() => db.insert(authorizationRequests).values({ ...request, request: JSON.stringify(request.request) }).run());
    },
    async findRequest(idHash, now) {
      const row = db
        .select()
        .from(authorizationRequests)
        .where(and(eq(authorizationRequests.idHash, idHash), gt(authorizationRequests.expiresAt, now)))
        .get();
      return row ? { ...row, request: JSON.parse(row.request) as Record<string, unknown> } : undefined;
    },
    deleteRequest: (idHash) => write(() => db.delete(authorizationRequests).where(eq(authorizationRequests.idHash, idHash)).run().changes === 1),
    async saveCode(code) {
      await write(() => insertCode.run(code.codeHash, code.clientId, code.familyId, JSON.stringify(code.grant), code.expiresAt));
    },
    async findCode(codeHash, now) {
      const row = codeByHash.get(codeHash);
      return row && row.expiresAt > now ? toCodeRecord(row) : undefined;
    },
    redeemCode: (codeHash, now) => write(() => redeem(codeHash, now)),
    async purgeExpired(now) {
      // Used codes are kept until they expire, so that a late reuse is still recognised; pushed
      // requests as long as an authorization they started may still be answered (pushedKeepSeconds).
      return (await purgePushed(now - pushedKeepSeconds)) + (await purgeRequests(now)) + (await purgeCodes(now));
    },
  };
}

function toCodeRecord(row: CodeRow): CodeRecord {
  return { codeHash: row.codeHash, clientId: row.clientId, familyId: row.familyId, grant: JSON.parse(row.grant) as IssuedGrant, expiresAt: row.expiresAt };
}
