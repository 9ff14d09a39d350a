// Pending upstream logins (single use: read and deleted in one statement) and browser sessions.
import { and, desc, eq, gt } from 'drizzle-orm';
import type { LoginStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { pendingLogins, sessions } from './schema.ts';
import { preparePurge } from './purge.ts';
import type { SqliteWrite } from './writer.ts';

export function createSqliteLoginStore(db: SqliteDb, write: SqliteWrite): LoginStore {
  const purgePending = preparePurge(db.$client, write, 'pending_logins');
  const purgeSessions = preparePurge(db.$client, write, 'sessions');
  return {
    async savePending(login) {
      db.insert(pendingLogins).values({ ...login, acrValues: login.acrValues ?? null, maxAge: login.maxAge ?? null }).run();
    },
    async takePending(stateHash, now) {
      // DELETE … RETURNING makes redemption atomic: of two concurrent callbacks only one gets the row.
      const row = db.delete(pendingLogins).where(eq(pendingLogins.stateHash, stateHash)).returning().get();
      if (!row || row.expiresAt <= now) return undefined;
      return { ...row, acrValues: row.acrValues ?? undefined, maxAge: row.maxAge ?? undefined };
    },
    async saveSession(session) {
      db.insert(sessions).values({ ...session, claims: JSON.stringify(session.claims) }).run();
    },
    async findSession(idHash, now) {
      const row = db.select().from(sessions).where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now))).get();
      return row ? { ...row, claims: JSON.parse(row.claims) as Record<string, unknown> } : undefined;
    },
    async deleteSession(idHash) {
      db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
    },
    async sessionsOf(sub, now) {
      const rows = db.select().from(sessions).where(and(eq(sessions.sub, sub), gt(sessions.expiresAt, now))).orderBy(desc(sessions.createdAt)).limit(1000).all();
      return rows.map((row) => ({ ...row, claims: JSON.parse(row.claims) as Record<string, unknown> }));
    },
    async endSessionOf(sub, sid) {
      const row = db.delete(sessions).where(and(eq(sessions.sub, sub), eq(sessions.sid, sid))).returning().get();
      return row ? { ...row, claims: JSON.parse(row.claims) as Record<string, unknown> } : undefined;
    },
    async purgeExpired(now) {
      return (await purgePending(now)) + (await purgeSessions(now));
    },
  };
}
