// vitest globalSetup: starts ONE throwaway PostgreSQL cluster for the whole run (./postgres-server.ts:
// loopback only, a temp dir, durability off since it is thrown away) and hands its admin URL to the
// tests (`inject('postgres')`, see ./postgres.ts). Stopped and deleted after the run. It never fails
// the run: when PostgreSQL cannot be started it provides the reason instead, and ./postgres.ts skips
// (or, under CI=true, fails) the PostgreSQL tests.
import type { TestProject } from 'vitest/node';
import { installHint, startPostgresServer } from './postgres-server.ts';

export type PostgresHandle = { adminUrl: string } | { unavailable: string };

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresHandle;
  }
}

const ci = /^(true|1)$/i.test(process.env.CI ?? '');

function unavailable(project: TestProject, reason: string): () => void {
  process.stdout.write(`postgres: ${reason}; the PostgreSQL tests ${ci ? 'will FAIL (CI is set: they must run there)' : 'are skipped'}.\n`);
  project.provide('postgres', { unavailable: reason });
  return () => {};
}

export default async function setup(project: TestProject): Promise<() => void> {
  try {
    const server = await startPostgresServer({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' } });
    project.provide('postgres', { adminUrl: server.adminUrl });
    return server.stop;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return unavailable(project, reason.startsWith('PostgreSQL is not installed') ? reason : `PostgreSQL could not be started (${reason}): ${installHint}`);
  }
}
