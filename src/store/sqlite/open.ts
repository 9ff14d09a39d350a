// Opens the embedded SQLite database (WAL), applies drizzle migrations, and builds the store ports.
// better-sqlite3 is synchronous: every transaction here is a plain synchronous function.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { Store, StoreObserver } from '../ports.ts';
import { createSqlitePatStore } from './pats.ts';
import { createSqliteAgentStateStore } from './agent-states.ts';
import { createSqliteApprovalStore } from './approvals.ts';
import { createSqliteAuditStore } from './audit.ts';
import { createSqliteAuthorizationStore } from './authorizations.ts';
import { createSqliteConsentStore } from './consents.ts';
import { createSqliteDynamicClientStore } from './dynamic-clients.ts';
import { createSqliteDelegationStore, createSqliteLineageStore } from './delegations.ts';
import { createSqliteFamilyStore } from './families.ts';
import { createSqliteKeyStore } from './keys.ts';
import { createSqliteLoginStore } from './logins.ts';
import { createSqliteSubjectStore } from './subjects.ts';
import { createSqliteSsfStore } from './ssf.ts';
import { createSqliteReplayStore, createSqliteRevocationStore, createSqliteSecretStore } from './tokens.ts';
import * as schema from './schema.ts';
import { createSqliteWriter } from './writer.ts';

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../drizzle/sqlite');

/** `busyTimeoutMs`: how long a write waits for a lock another process holds (the event loop waits too). `observer`: told each group commit (metrics). */
export function openSqliteStore(file: string, options: { busyTimeoutMs?: number; observer?: StoreObserver | undefined } = {}): Store {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  sqlite.pragma('foreign_keys = ON');
  // Savepoint sub-journals (one per multi-statement write of a group commit) in memory, not in a
  // temporary file: writing them through the file system was ~4 % of a token exchange's CPU.
  sqlite.pragma('temp_store = MEMORY');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  const write = createSqliteWriter(sqlite, options.observer);

  return {
    keys: createSqliteKeyStore(db),
    replay: createSqliteReplayStore(db, write),
    revocations: createSqliteRevocationStore(db, write),
    audit: createSqliteAuditStore(db, write),
    subjects: createSqliteSubjectStore(db, write),
    logins: createSqliteLoginStore(db, write),
    authorizations: createSqliteAuthorizationStore(db, write),
    families: createSqliteFamilyStore(db, write),
    consents: createSqliteConsentStore(db),
    delegations: createSqliteDelegationStore(db, write),
    lineage: createSqliteLineageStore(db, write),
    secrets: createSqliteSecretStore(db),
    approvals: createSqliteApprovalStore(db),
    dynamicClients: createSqliteDynamicClientStore(db),
    agentStates: createSqliteAgentStateStore(db),
    ssf: createSqliteSsfStore(db, write),
    pats: createSqlitePatStore(db, write),
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      if (sqlite.open) sqlite.close();
    },
  };
}

