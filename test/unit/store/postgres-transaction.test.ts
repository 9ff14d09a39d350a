// inTransaction (src/store/postgres/transaction.ts): a transaction PostgreSQL aborts to break a
// deadlock is run again whole, so both sides of the deadlock end up committed exactly once; any
// other error is the caller's.
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { expect, it } from 'vitest';
import type { PgDb } from '../../../src/store/postgres/db.ts';
import * as schema from '../../../src/store/postgres/schema.ts';
import { inTransaction } from '../../../src/store/postgres/transaction.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('PostgreSQL transactions', (backend) => {
  const pgIt = it.runIf(backend.kind === 'postgres');

  async function withDb<T>(work: (db: PgDb) => Promise<T>): Promise<T> {
    const pool = new pg.Pool({ connectionString: backend.url, max: 4 });
    try {
      return await work(drizzle(pool, { schema }));
    } finally {
      await pool.end();
    }
  }

  pgIt('a deadlock victim is retried and both transactions commit once', async () => {
    await backend.store.families.createFamily({ id: 'x', clientId: 'c', sub: 'p', createdAt: 1, expiresAt: 10_000 });
    await backend.store.families.createFamily({ id: 'y', clientId: 'c', sub: 'p', createdAt: 1, expiresAt: 10_000 });
    await withDb(async (db) => {
      let attempts = 0;
      // Each locks one row, waits until both hold theirs, then wants the other's: a deadlock on the first run.
      let arrived = 0;
      const bothHold = () =>
        new Promise<void>((resolve) => {
          arrived++;
          const check = () => (arrived >= 2 ? resolve() : setTimeout(check, 5));
          check();
        });
      const cross = (first: string, second: string) =>
        inTransaction(db, async (tx) => {
          attempts++;
          await tx.execute(sql`UPDATE token_families SET created_at = created_at + 1 WHERE id = ${first}`);
          if (attempts <= 2) await bothHold();
          await tx.execute(sql`UPDATE token_families SET created_at = created_at + 1 WHERE id = ${second}`);
        });
      await Promise.all([cross('x', 'y'), cross('y', 'x')]);
      expect(attempts).toBe(3);
      const rows = await db.execute<{ id: string; created_at: string }>(sql`SELECT id, created_at FROM token_families ORDER BY id`);
      expect(rows.rows.map((r) => [r.id, Number(r.created_at)])).toEqual([
        ['x', 3],
        ['y', 3],
      ]);
    });
  });

  pgIt('any other error is thrown at once, and nothing of the transaction stays', async () => {
    await withDb(async (db) => {
      let attempts = 0;
      await expect(
        inTransaction(db, async (tx) => {
          attempts++;
          await tx.execute(sql`INSERT INTO used_ids (scope, id, expires_at) VALUES ('s', 'a', 1)`);
          await tx.execute(sql`INSERT INTO used_ids (scope, id, expires_at) VALUES ('s', 'a', 1)`);
        }),
      ).rejects.toThrow();
      expect(attempts).toBe(1);
      expect((await db.execute(sql`SELECT 1 FROM used_ids`)).rows).toHaveLength(0);
    });
  });
});
