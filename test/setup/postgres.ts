// PostgreSQL for tests: the cluster test/setup/postgres-cluster.ts started for the run, and a fresh
// database on it per caller. Without PostgreSQL the PostgreSQL tests are skipped with one line saying
// how to install it, except under CI=true, where they fail. Loopback only; never a real server.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase } from './postgres-server.ts';

const ci = /^(true|1)$/i.test(process.env.CI ?? '');

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  const handle = inject('postgres');
  return 'unavailable' in handle ? handle.unavailable : undefined;
}

/** Skip the PostgreSQL tests: only when PostgreSQL is missing and CI is not set (under CI they run and fail). */
export const skipPostgres = (): boolean => postgresUnavailable() !== undefined && !ci;

/** A new, empty database on the run's cluster; its URL (with the test role's password). */
export async function freshPostgresUrl(): Promise<string> {
  const handle = inject('postgres');
  if ('unavailable' in handle) throw new Error(handle.unavailable);
  return createDatabase(handle.adminUrl, `t_${randomBytes(6).toString('hex')}`);
}
