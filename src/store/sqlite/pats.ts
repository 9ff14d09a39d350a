// Personal access tokens on SQLite. Creation counts the person's live tokens and inserts in one
// write (a synchronous function in the group-committed transaction), so the cap holds under races.
import { and, count, desc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { PatStore } from '../ports.ts';
import { patFromRow } from '../rows.ts';
import type { SqliteDb } from './db.ts';
import { personalAccessTokens as pats } from './schema.ts';
import type { SqliteWrite } from './writer.ts';

export function createSqlitePatStore(db: SqliteDb, write: SqliteWrite): PatStore {
  const byHash = db.select().from(pats).where(eq(pats.tokenHash, sql.placeholder('tokenHash'))).prepare();
  return {
    create: (record, maxLive, now) =>
      write(() => {
        const [live] = db.select({ n: count() }).from(pats).where(and(eq(pats.sub, record.sub), isNull(pats.revokedAt), gt(pats.expiresAt, now))).all();
        if ((live?.n ?? 0) >= maxLive) return false;
        db.insert(pats).values({ ...record, scopes: record.scopes.join(' ') }).run();
        return true;
      }),
    async findByHash(tokenHash) {
      const row = byHash.get({ tokenHash });
      return row ? patFromRow(row) : undefined;
    },
    async list(sub, now) {
      return db.select().from(pats).where(and(eq(pats.sub, sub), gt(pats.expiresAt, now))).orderBy(desc(pats.createdAt), desc(pats.id)).all().map(patFromRow);
    },
    revoke: (id, sub, now) =>
      write(() => {
        const row = db.update(pats).set({ revokedAt: now }).where(and(eq(pats.id, id), isNull(pats.revokedAt), sub === undefined ? undefined : eq(pats.sub, sub))).returning().get();
        return row ? patFromRow(row) : undefined;
      }),
    touch: async (id, now, everySeconds) => {
      await write(() => db.update(pats).set({ lastUsedAt: now }).where(and(eq(pats.id, id), or(isNull(pats.lastUsedAt), lte(pats.lastUsedAt, now - everySeconds)))).run());
    },
    purgeExpired: (now) => write(() => db.delete(pats).where(lte(pats.expiresAt, now)).run().changes),
  };
}
