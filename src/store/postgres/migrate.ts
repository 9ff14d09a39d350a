// Applies drizzle/postgres migrations so that several nodes starting at once migrate exactly once:
// drizzle's migrator takes no lock, so it runs under a session-level pg_advisory_lock held on one
// dedicated connection. Before migrating it refuses a database that has applied a migration this
// code does not know (a newer Consulate migrated it): running old code on a newer schema is unsafe.
// It must not run a migration outside the lock, nor on a pooled connection (statement_timeout).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { UnknownMigrationError } from './errors.ts';
import { advisoryLocks } from './locks.ts';

/** Same depth from src/store/postgres and dist/store/postgres. */
export const postgresMigrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../drizzle/postgres');

const migrateLockKey = advisoryLocks.migrate;

export { UnknownMigrationError } from './errors.ts';

/**
 * One dedicated connection (outside the pool) holds the lock and runs the migrations: no pool
 * deadlock with a pool of one, and no statement_timeout cutting a long wait or a long migration.
 */
export async function migratePostgres(url: string, folder = postgresMigrationsFolder): Promise<void> {
  const known = readMigrationFiles({ migrationsFolder: folder });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [migrateLockKey]);
    await refuseUnknown(client, known, newestTag(folder));
    await migrate(drizzle(client), { migrationsFolder: folder });
    // Closing the session releases the lock too; unlocking says so explicitly.
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [migrateLockKey]);
  } finally {
    await client.end();
  }
}

/** The tag (file name) of the newest migration in the folder, e.g. 0000_init. */
function newestTag(folder: string): string | undefined {
  const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8')) as { entries?: { tag?: string }[] };
  return journal.entries?.at(-1)?.tag;
}

async function refuseUnknown(client: pg.Client, known: { hash: string; folderMillis: number }[], tag: string | undefined): Promise<void> {
  const table = await client.query<{ present: boolean }>(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return;
  const applied = await client.query<{ hash: string; created_at: string | null }>('SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at');
  // Known by their time stamp (drizzle's own key: it applies the files newer than the newest row),
  // so re-generating a file's text does not make its applied row look foreign.
  const stamps = new Set(known.map((m) => m.folderMillis));
  const unknown = applied.rows.filter((row) => !stamps.has(Number(row.created_at)));
  if (unknown.length === 0) return;
  const newest = unknown.at(-1);
  const ours = known.at(-1);
  const when = (ms: number | string | null | undefined) => (ms === null || ms === undefined ? 'an unknown time' : new Date(Number(ms)).toISOString());
  throw new UnknownMigrationError(
    `the database has a schema migration this Consulate does not know (hash ${newest?.hash.slice(0, 12)}…, made ${when(newest?.created_at)}); ` +
      `this Consulate knows migrations up to ${ours ? `${tag ?? ours.hash.slice(0, 12)} (${when(ours.folderMillis)})` : 'none'}: ` +
      'a newer Consulate migrated this database; run that version (or newer) instead',
  );
}
