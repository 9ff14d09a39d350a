// The SQLite database being moved, opened for reading only by this process: an exclusive lock
// (locking_mode EXCLUSIVE + BEGIN EXCLUSIVE) is refused while any other connection has the file open
// (a running `consulate serve` keeps one open the whole time), so a running server is detected, and
// no server can start and write while the copy runs. The lock lasts until close().
// The schema is brought up to date first (the migrations `serve` would apply); nothing else is written.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { migrationsFolder } from '../sqlite/open.ts';
import { MigrateToError } from './errors.ts';

export type SqliteSource = {
  readonly file: string;
  count(table: string): number;
  /** The rows of `table` in rowid order, at most `size` at a time: SQL column name → stored value. */
  batches(table: string, size: number): Generator<Record<string, unknown>[]>;
  /** The newest receipt of the audit chain (what the copy's chain must end with), if any. */
  receiptHead(): { seq: number; hash: string } | undefined;
  close(): void;
};

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A stored integer as a JS number when that is exact; BigInt beyond 2^53 (read with safeIntegers). */
const exact = (value: unknown) => (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);

export function openSqliteSource(file: string, options: { migrate?: boolean; lockWaitMs?: number } = {}): SqliteSource {
  if (!existsSync(file)) throw new MigrateToError(`no SQLite database at ${file}: nothing to copy (check --config, --data-dir or --database-url)`);
  const sqlite = new Database(file, { fileMustExist: true });
  try {
    sqlite.pragma(`busy_timeout = ${Math.trunc(options.lockWaitMs ?? 500)}`);
    sqlite.pragma('locking_mode = EXCLUSIVE');
    try {
      sqlite.exec('BEGIN EXCLUSIVE');
      sqlite.exec('COMMIT');
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new MigrateToError(`the SQLite database ${file} is in use by another process (a running consulate serve?): stop every server using it, then run this again`);
    }
    if (options.migrate !== false) migrate(drizzle(sqlite), { migrationsFolder });
  } catch (error) {
    sqlite.close();
    throw error;
  }

  return {
    file,
    count: (table) => Number((sqlite.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n),
    *batches(table, size) {
      const page = sqlite.prepare(`SELECT rowid AS "__rowid", * FROM ${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?`).safeIntegers(true);
      let after: unknown = -1n << 63n;
      for (;;) {
        const rows = page.all(after, size) as Record<string, unknown>[];
        if (rows.length === 0) return;
        after = rows.at(-1)?.__rowid;
        yield rows.map(({ __rowid: _, ...row }) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, exact(value)])));
        if (rows.length < size) return;
      }
    },
    receiptHead: () => sqlite.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}
