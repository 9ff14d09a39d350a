// Picks the store backend from the database URL: sqlite:<path> (the embedded default) or
// postgres:// / postgresql:// (several nodes on one database). Callers see only the Store port.
// Only the backend the URL names is loaded (the other's driver and drizzle dialect cost a server
// several MB of memory for nothing).
import { resolve } from 'node:path';
import type { Store, StoreObserver } from './ports.ts';

export { DatabaseUnreachableError, redactDatabaseUrl, UnknownMigrationError } from './postgres/errors.ts';

/** Options of the database (config `database`): pool and statement timeout for PostgreSQL, lock wait for SQLite; `observer` for metrics. */
export type StoreOptions = { poolSize?: number; statementTimeoutMs?: number; busyTimeoutMs?: number; observer?: StoreObserver | undefined };

export function databaseUrlFor(dataDir: string, databaseUrl: string | undefined): string {
  return databaseUrl ?? `sqlite:${resolve(dataDir, 'consulate.db')}`;
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url);

export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/open.ts');
    return openSqliteStore(url.slice('sqlite:'.length), { ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }), observer: options.observer });
  }
  if (isPostgresUrl(url)) {
    const { openPostgresStore } = await import('./postgres/open.ts');
    return openPostgresStore(url, options);
  }
  throw new Error(`unsupported database URL scheme in ${url.split(':')[0]}: (supported: sqlite:, postgres://, postgresql://)`);
}
