// Opens the PostgreSQL store: a pg Pool (size and per-connection statement_timeout configurable),
// drizzle's node-postgres driver, migrations under an advisory lock (./migrate.ts), then the store
// ports. Several nodes may open the same database at once. A database it cannot reach is reported
// as DatabaseUnreachableError, whose message never contains the password.
// It must not log, and must not hold a connection beyond ping() and the pool's own.
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Store, StoreObserver } from '../ports.ts';
import { createPgPatStore } from './pats.ts';
import { createPgAgentStateStore } from './agent-states.ts';
import { createPgAuditStore } from './audit.ts';
import { createPgConsentStore } from './consents.ts';
import { createPgDynamicClientStore } from './dynamic-clients.ts';
import { createPgKeyStore } from './keys.ts';
import { createPgLoginStore } from './logins.ts';
import { DatabaseUnreachableError, redactDatabaseUrl, UnknownMigrationError } from './errors.ts';
import { migratePostgres } from './migrate.ts';
import * as schema from './schema.ts';
import { createPgSubjectStore } from './subjects.ts';
import { createPgSsfStore } from './ssf.ts';
import { createPgReplayStore, createPgRevocationStore, createPgSecretStore } from './tokens.ts';
import { createPgApprovalStore } from './approvals.ts';
import { createPgAuthorizationStore } from './authorizations.ts';
import { createPgDelegationStore, createPgLineageStore } from './delegations.ts';
import { createPgFamilyStore } from './families.ts';
import { createPgRateLimiter } from './rate-limits.ts';

export { DatabaseUnreachableError, redactDatabaseUrl } from './errors.ts';

export type PostgresOptions = { poolSize?: number; statementTimeoutMs?: number; connectTimeoutMs?: number; observer?: StoreObserver | undefined };

export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end();
  };
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (error) {
    await close();
    throw new DatabaseUnreachableError(`cannot reach the database at ${redactDatabaseUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const db = drizzle(pool, { schema });
  try {
    await migratePostgres(url);
  } catch (error) {
    await close();
    if (error instanceof UnknownMigrationError) throw new UnknownMigrationError(`refusing the database at ${redactDatabaseUrl(url)}: ${error.message}`);
    throw error;
  }

  return {
    keys: createPgKeyStore(db),
    replay: createPgReplayStore(db),
    revocations: createPgRevocationStore(db),
    audit: createPgAuditStore(db, options.observer),
    subjects: createPgSubjectStore(db),
    logins: createPgLoginStore(db),
    consents: createPgConsentStore(db),
    secrets: createPgSecretStore(db),
    dynamicClients: createPgDynamicClientStore(db),
    agentStates: createPgAgentStateStore(db),
    ssf: createPgSsfStore(db),
    pats: createPgPatStore(db),
    // Authorizations, families, delegations + lineage, approvals:
    authorizations: createPgAuthorizationStore(db),
    families: createPgFamilyStore(db),
    delegations: createPgDelegationStore(db),
    lineage: createPgLineageStore(db),
    approvals: createPgApprovalStore(db),
    createRateLimiter: createPgRateLimiter(pool),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async ping() {
      await pool.query('select 1');
    },
    close,
  };
}
