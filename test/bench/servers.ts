// The servers of `npm run bench`, each in its own process, pinned to the server CPU when the run
// pins (run.ts): Consulate (consulate-server.ts, from the build chosen below), the peer
// (peer-server.ts, oidc-provider) and the bare-Hono baseline (baseline-server.ts). The peer and the
// baseline always run on plain Node, Consulate does when it runs compiled: tsx would add its own
// memory to the RSS figures.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { hashSecret } from '../../src/clients/secrets.ts';
import { fixtureEnv, makeConfigDir, secrets } from '../e2e/support/consulate.ts';
import { codeTtlSeconds, exchangeAgent, exchangeAgentSecret, exchangeAgentYaml, personClient } from './person.ts';
import { spawnServer, type ServerProcess } from './spawn.ts';

/**
 * Which Consulate the bench serves; the one place to change it. The bench runs `npm run build`
 * (src/ into dist/, entry dist/cli/main.js: what `consulate serve` runs in production) and loads
 * that build on plain Node; if the build fails, src/ through tsx. BENCH_CONSULATE=src forces the sources.
 */
export const consulateBuild = { dir: 'dist', entry: 'cli/main.js', extension: '.js' } as const;
/** What consulate-server.ts loads, by path under src/ (and dist/) without extension. */
const serverModules = ['main', 'log', 'authorize/code', 'grants/dispatch', 'oauth/params'];

const repoRoot = resolve(import.meta.dirname, '../..');

export type Build = { compiled: boolean; modules: string; extension: string; label: string };

export function chooseBuild(): Build {
  const dist = join(repoRoot, consulateBuild.dir);
  const sources: Build = { compiled: false, modules: join(repoRoot, 'src'), extension: '.ts', label: 'src/ through tsx' };
  if (process.env.BENCH_CONSULATE === 'src') return { ...sources, label: `${sources.label} (BENCH_CONSULATE=src)` };
  // The production build of the sources as they are now (incremental: under a second when fresh).
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) return { ...sources, label: `${sources.label} (\`npm run build\` failed)` };
  const entry = join(dist, consulateBuild.entry);
  if (!existsSync(entry)) return { ...sources, label: `${sources.label} (no ${consulateBuild.dir}/${consulateBuild.entry}; \`npm run build\` makes the production build)` };
  const missing = serverModules.filter((path) => !existsSync(join(dist, `${path}${consulateBuild.extension}`)));
  if (missing.length > 0) return { ...sources, label: `${sources.label} (${consulateBuild.dir}/ lacks ${missing.join(', ')})` };
  return { compiled: true, modules: dist, extension: consulateBuild.extension, label: `compiled build ${consulateBuild.dir}/ on plain Node` };
}

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Where a Consulate of the bench keeps its data: SQLite in its data dir (the default), or a PostgreSQL database. */
export type ConsulateStore = {
  /** postgres://… (`database_url`); without it, SQLite in dir/data. */
  databaseUrl?: string;
  /** Another node's issuer, so that nodes on one database announce one issuer, as behind a load balancer. */
  issuer?: string;
};

/**
 * The test fixture config (as the e2e tests use it) copied into `dir`, plus the token exchange
 * agent; a SQLite store in dir/data unless `store` names a PostgreSQL database. The fixture re-reads
 * signing keys every 50 ms (for rotation tests): the bench runs the default instead. Codes live
 * codeTtlSeconds so that a pool made before a round stays valid; the lifetime changes no work per
 * redemption.
 */
export function startConsulate(dir: string, build: Build, cpu: number | undefined, store: ConsulateStore = {}): Promise<ServerProcess> {
  const main = parse(readFileSync(join(repoRoot, 'test/fixtures/config/consulate.yaml'), 'utf8')) as { keys?: Record<string, unknown>; authorization?: Record<string, unknown> };
  delete main.keys?.reload_seconds;
  main.authorization = { ...main.authorization, code_ttl_seconds: codeTtlSeconds };
  const { configDir, dataDir } = makeConfigDir({ 'consulate.yaml': stringify(main), [`clients/${exchangeAgent}.yaml`]: exchangeAgentYaml }, dir);
  const configEnv = { ...fixtureEnv(), BENCH_AGENT_SECRET_HASH: hashSecret(exchangeAgentSecret) };
  return spawnServer(
    'consulate-server.ts',
    {
      BENCH_CONSULATE_MODULES: build.modules,
      BENCH_CONSULATE_EXTENSION: build.extension,
      BENCH_CONFIG_DIR: configDir,
      BENCH_DATA_DIR: dataDir,
      BENCH_CONFIG_ENV: JSON.stringify(configEnv),
      BENCH_WEB_APP_AUTH: basic(personClient, secrets[personClient]),
      ...(store.databaseUrl ? { BENCH_DATABASE_URL: store.databaseUrl } : {}),
      ...(store.issuer ? { BENCH_ISSUER: store.issuer } : {}),
    },
    { runtime: build.compiled ? 'node' : 'tsx', ...(cpu === undefined ? {} : { cpu }), ...profiling() },
  );
}

/** BENCH_CPU_PROF=<dir>: each Consulate process writes a V8 CPU profile there when it stops (node --cpu-prof). */
const profiling = () => (process.env.BENCH_CPU_PROF ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] } : {});

export const startPeer = (cpu: number | undefined) => spawnServer('peer-server.ts', {}, { runtime: 'node', ...(cpu === undefined ? {} : { cpu }) });

/** The baseline answers with a body as long as a real token response (`bodyBytes`). */
export const startBaseline = (bodyBytes: number, cpu: number | undefined) =>
  spawnServer('baseline-server.ts', { BENCH_BODY_BYTES: String(bodyBytes) }, { runtime: 'node', ...(cpu === undefined ? {} : { cpu }) });

