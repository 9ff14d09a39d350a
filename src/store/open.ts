// Picks the store backend from the database URL. SQLite is the embedded default.
import { resolve } from 'node:path';
import type { Store } from './ports.ts';
import { openSqliteStore } from './sqlite/open.ts';

export function databaseUrlFor(dataDir: string, databaseUrl: string | undefined): string {
  return databaseUrl ?? `sqlite:${resolve(dataDir, 'consulate.db')}`;
}

export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length));
  throw new Error(`unsupported database URL scheme in ${url.split(':')[0]}: (supported: sqlite:)`);
}
