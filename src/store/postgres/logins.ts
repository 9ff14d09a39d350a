// Pending upstream logins (single use: DELETE … RETURNING, so of two callbacks on two nodes only one
// gets the row) and browser sessions, on PostgreSQL.
import { and, desc, eq, gt, lt } from 'drizzle-orm';
import type { LoginStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { pendingLogins, sessions } from './schema.ts';

export function createPgLoginStore(db: PgDb): LoginStore {
  return {
    async savePending(login) {
      await db.insert(pendingLogins).values({ ...login, acrValues: login.acrValues ?? null, maxAge: login.maxAge ?? null });
    },
    async takePending(stateHash, now) {
      const [row] = await db.delete(pendingLogins).where(eq(pendingLogins.stateHash, stateHash)).returning();
      if (!row || row.expiresAt <= now) return undefined;
      return { ...row, acrValues: row.acrValues ?? undefined, maxAge: row.maxAge ?? undefined };
    },
    async saveSession(session) {
      await db.insert(sessions).values({ ...session, claims: JSON.stringify(session.claims) });
    },
    async findSession(idHash, now) {
      const [row] = await db.select().from(sessions).where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)));
      return row ? { ...row, claims: JSON.parse(row.claims) as Record<string, unknown> } : undefined;
    },
    async deleteSession(idHash) {
      await db.delete(sessions).where(eq(sessions.idHash, idHash));
    },
    async sessionsOf(sub, now) {
      const rows = await db.select().from(sessions).where(and(eq(sessions.sub, sub), gt(sessions.expiresAt, now))).orderBy(desc(sessions.createdAt)).limit(1000);
      return rows.map((row) => ({ ...row, claims: JSON.parse(row.claims) as Record<string, unknown> }));
    },
    async endSessionOf(sub, sid) {
      const [row] = await db.delete(sessions).where(and(eq(sessions.sub, sub), eq(sessions.sid, sid))).returning();
      return row ? { ...row, claims: JSON.parse(row.claims) as Record<string, unknown> } : undefined;
    },
    async purgeExpired(now) {
      const logins = await db.delete(pendingLogins).where(lt(pendingLogins.expiresAt, now));
      const gone = await db.delete(sessions).where(lt(sessions.expiresAt, now));
      return (logins.rowCount ?? 0) + (gone.rowCount ?? 0);
    },
  };
}
