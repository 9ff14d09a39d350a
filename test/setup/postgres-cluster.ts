// vitest globalSetup: starts ONE throwaway PostgreSQL cluster for the whole run, on loopback only,
// and hands its admin URL to the tests (`inject('postgres')`, see ./postgres.ts). initdb into a temp
// dir (as the `postgres` OS user when running as root: initdb refuses root), pg_ctl start on a free
// port with the socket in that dir, a role with a password that may create databases. Stopped and
// deleted after the run. It never fails the run: when PostgreSQL cannot be started it provides the
// reason instead, and ./postgres.ts skips (or, under CI=true, fails) the PostgreSQL tests.
// It must not touch any cluster but its own, nor listen beyond 127.0.0.1.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export type PostgresHandle = { adminUrl: string } | { unavailable: string };

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresHandle;
  }
}

const install = 'install it with `sudo apt-get install postgresql` (Debian), or set PG_BIN to the directory holding initdb and pg_ctl';

/** The directory with initdb and pg_ctl: PG_BIN, else Debian's newest /usr/lib/postgresql/<major>/bin. */
function findBinDir(): string | undefined {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const ci = /^(true|1)$/i.test(process.env.CI ?? '');

function unavailable(project: TestProject, reason: string): () => void {
  process.stdout.write(`postgres: ${reason}; the PostgreSQL tests ${ci ? 'will FAIL (CI is set: they must run there)' : 'are skipped'}.\n`);
  project.provide('postgres', { unavailable: reason });
  return () => {};
}

export default async function setup(project: TestProject): Promise<() => void> {
  const bin = findBinDir();
  if (!bin) return unavailable(project, `PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin): ${install}`);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'consulate-pg-'));
  const data = join(dir, 'data');
  // As root, every command runs as the `postgres` OS user, which must own the cluster's directory.
  const as = (command: string, args: string[]): SpawnSyncReturns<string> =>
    root
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { encoding: 'utf8', timeout: 120_000 })
      : spawnSync(join(bin, command), args, { encoding: 'utf8', timeout: 120_000 });
  const failed = (step: string, result: SpawnSyncReturns<string>) =>
    `${step} failed: ${(result.stderr || result.stdout || result.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`;
  const stop = () => {
    as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (root) {
      chmodSync(dir, 0o755);
      spawnSync('chown', ['postgres', dir]);
    }
    const init = as('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-instructions']);
    if (init.status !== 0) throw new Error(failed('initdb', init));
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    const start = as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
    if (start.status !== 0) throw new Error(failed('pg_ctl start', start));
    const password = randomBytes(12).toString('hex');
    const sqlFile = join(dir, 'init.sql');
    writeFileSync(sqlFile, `CREATE ROLE consulate LOGIN CREATEDB PASSWORD '${password}';\nCREATE DATABASE consulate OWNER consulate;\n`);
    if (root) spawnSync('chown', ['postgres', sqlFile]);
    const psql = as('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-f', sqlFile]);
    if (psql.status !== 0) throw new Error(failed('psql', psql));
    project.provide('postgres', { adminUrl: `postgres://consulate:${password}@127.0.0.1:${port}/consulate` });
    return stop;
  } catch (error) {
    stop();
    return unavailable(project, `PostgreSQL could not be started (${error instanceof Error ? error.message : String(error)}): ${install}`);
  }
}
