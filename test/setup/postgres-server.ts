// A throwaway PostgreSQL cluster on loopback, for the tests (postgres-cluster.ts, vitest's
// globalSetup) and the PostgreSQL benchmark (test/bench/stores.ts). initdb into a temp dir (as the
// `postgres` OS user when running as root: initdb refuses root), pg_ctl start on a free port with
// the socket in that dir, a role with a password that may create databases. stop() ends the
// cluster and deletes the dir. It must not touch any cluster but its own, nor listen beyond 127.0.0.1.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const installHint = 'install it with `sudo apt-get install postgresql` (Debian), or set PG_BIN to the directory holding initdb and pg_ctl';

export type PostgresServer = {
  /** postgres://consulate:…@127.0.0.1:<port>/consulate; the role may create databases. */
  adminUrl: string;
  /** The server settings it was started with (`-c name=value`). */
  settings: Record<string, string>;
  /** The postmaster's process id (every backend is its child). */
  pid: number;
  stop(): void;
};

export type PostgresServerOptions = {
  /** Server settings beyond listen_addresses, e.g. { fsync: 'off' }. */
  settings?: Record<string, string>;
  /** Pins the postmaster, and so every backend it forks, to this CPU (taskset). */
  cpu?: number;
};

/** The directory with initdb and pg_ctl: PG_BIN, else Debian's newest /usr/lib/postgresql/<major>/bin. */
export function findPostgresBin(): string | undefined {
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

/** Starts a cluster; throws with the failing step's last lines when PostgreSQL is missing or will not start. */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(`PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin): ${installHint}`);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'consulate-pg-'));
  const data = join(dir, 'data');
  // As root, every command runs as the `postgres` OS user, which must own the cluster's directory.
  const as = (command: string, args: string[], cpu?: number): SpawnSyncReturns<string> => {
    const line = [...(root ? ['runuser', '-u', 'postgres', '--'] : []), join(bin, command), ...args];
    const pinned = cpu === undefined ? line : ['taskset', '-c', String(cpu), ...line];
    return spawnSync(pinned[0] as string, pinned.slice(1), { encoding: 'utf8', timeout: 120_000 });
  };
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
    const settings = { listen_addresses: '127.0.0.1', ...options.settings };
    const serverOptions = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
    const start = as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start'], options.cpu);
    if (start.status !== 0) throw new Error(failed('pg_ctl start', start));
    const password = randomBytes(12).toString('hex');
    const sqlFile = join(dir, 'init.sql');
    writeFileSync(sqlFile, `CREATE ROLE consulate LOGIN CREATEDB PASSWORD '${password}';\nCREATE DATABASE consulate OWNER consulate;\n`);
    if (root) spawnSync('chown', ['postgres', sqlFile]);
    const psql = as('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-f', sqlFile]);
    if (psql.status !== 0) throw new Error(failed('psql', psql));
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { adminUrl: `postgres://consulate:${password}@127.0.0.1:${port}/consulate`, settings, pid, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** A new, empty database named `name` on the cluster of `adminUrl`; its URL (same role and password). */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
