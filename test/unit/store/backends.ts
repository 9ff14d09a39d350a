// The store conformance harness: `forEachBackend(name, suite)` runs one describe block against every
// backend, SQLite (a temp file) and PostgreSQL (a fresh database on the run's cluster), so both keep
// the same promises. Each test gets its own empty database; `open()` opens another store on it (a
// second node, or the CLI next to a server). Every store is closed and the SQLite files deleted after
// the test. Without PostgreSQL its half is skipped (or fails under CI=true): see test/setup/postgres.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { openPostgresStore } from '../../../src/store/postgres/open.ts';
import type { Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';
import { freshPostgresUrl, postgresUnavailable, skipPostgres } from '../../setup/postgres.ts';

export type BackendKind = 'sqlite' | 'postgres';

export type Backend = {
  readonly kind: BackendKind;
  /** The store opened on this test's database before the test. */
  readonly store: Store;
  /** The database URL of this test (sqlite:<file> or postgres://…). */
  readonly url: string;
  /** Another store on the same database: a second node. Closed after the test. */
  open(): Promise<Store>;
};

async function openOn(kind: BackendKind, url: string): Promise<Store> {
  return kind === 'sqlite' ? openSqliteStore(url.slice('sqlite:'.length)) : openPostgresStore(url, { poolSize: 5 });
}

export function forEachBackend(name: string, suite: (backend: Backend) => void): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    const skip = kind === 'postgres' && skipPostgres();
    const title = skip ? `${name} (postgres: skipped, ${postgresUnavailable()})` : `${name} (${kind})`;
    describe.skipIf(skip)(title, () => {
      let current: { store: Store; url: string; dir?: string; opened: Store[] } | undefined;
      const now = () => {
        if (!current) throw new Error('the backend is only open inside a test');
        return current;
      };
      beforeEach(async () => {
        if (kind === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'consulate-store-'));
          const url = `sqlite:${join(dir, 'consulate.db')}`;
          current = { store: await openOn(kind, url), url, dir, opened: [] };
        } else {
          const url = await freshPostgresUrl();
          current = { store: await openOn(kind, url), url, opened: [] };
        }
      });
      afterEach(async () => {
        const done = current;
        current = undefined;
        if (!done) return;
        await Promise.allSettled([done.store.close(), ...done.opened.map((s) => s.close())]);
        if (done.dir) rmSync(done.dir, { recursive: true, force: true });
      });
      suite({
        kind,
        get store() {
          return now().store;
        },
        get url() {
          return now().url;
        },
        async open() {
          const state = now();
          const store = await openOn(kind, state.url);
          state.opened.push(store);
          return store;
        },
      });
    });
  }
}
