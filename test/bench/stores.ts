// `npm run bench:postgres`: client credentials, code redemption and token exchange on SQLite (one
// node, as `npm run bench` runs it), on PostgreSQL with one node, and on PostgreSQL with two nodes
// (two Consulate processes, same config and issuer, one database), each as a ratio to a bare-Hono
// baseline of the same run and to SQLite. A throwaway PostgreSQL cluster is started for the run
// (test/setup/postgres-server.ts), one database per configuration.
//
// Protocol (protocol.ts, as run.ts): one warm-up per configuration and target, then BENCH_ROUNDS
// rounds alternating SQLite / PG 1 node / PG 2 nodes, medians of the rounds. Two nodes take the
// load split in two: two wrk processes at once, one per node, each with half the connections;
// their rates summed, their latencies the larger of the two. Single-use codes come from pools each
// node makes for itself.
//
// CPU placement: every server-side process on CPU 0 (the Consulate nodes, the baseline, and the
// PostgreSQL postmaster with every backend it forks), the load generators on CPU 1. SQLite does its
// writes inside the Consulate process, so this gives each configuration the same one core for all
// server-side work: ratios to SQLite compare equal CPU. Two nodes on one core measure what running
// as a cluster costs (connection pools, the shared receipt chain, the database round trips), not
// scale-out, which needs a core per node.
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, startPostgresServer } from '../setup/postgres-server.ts';
import { cpuSeconds } from './cpu.ts';
import type { LoadGenerator } from './load.ts';
import { codeTtlSeconds } from './person.ts';
import { chooseGenerator, createRun, measure, pinCpus, readSettings, say, single, type Contender } from './protocol.ts';
import { median, side, type Side } from './report.ts';
import { chooseBuild, startBaseline, startConsulate } from './servers.ts';
import type { Memory } from './spawn.ts';
import { formatStoreRows, writeStoreJson, type StoreRow } from './store-report.ts';
import { baselineEndpoint, checkOnce, consulateTokenRequest, makeTargets, names, post, type Endpoint, type Target } from './targets.ts';

const settings = readSettings(false);
const { seconds, warmupSeconds, rounds, connections } = settings;
/** SQLite's synchronous=NORMAL in WAL mode does not wait for the disk at commit; `off` is PostgreSQL's match. */
const synchronousCommit = process.env.BENCH_PG_SYNCHRONOUS_COMMIT ?? 'off';
const measured = [names.clientCredentials, names.authorizationCode, names.tokenExchange];
const stores = { sqlite: 'SQLite', one: 'PG 1 node', two: 'PG 2 nodes' } as const;

const run = createRun();
const { dir, named, started } = run;
const cpus = availableParallelism();
const pin = pinCpus();
const generator = chooseGenerator(connections, pin, dir);
// One generator per node for the split load, each with its own scratch dir (pool files).
const halves = [Math.ceil(connections / 2), Math.floor(connections / 2)].map((n, i) => {
  const scratch = join(dir, `load-${i}`);
  mkdirSync(scratch);
  return chooseGenerator(n, pin, scratch);
});
const build = chooseBuild();
const mb = (m: Memory | undefined) => (m ? `${m.rssMb.toFixed(0)} MB` : 'n/a');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * Nodes under load at once, one generator each (one node: the whole load); rates summed, latencies
 * the larger. `cpu` reads the CPU seconds of the server side so far: its difference around the load
 * (pools and checks excluded) per request answered.
 */
function nodes(server: string, endpoints: Endpoint[], generators: LoadGenerator[], cpu: () => number): Contender {
  return {
    server,
    async run(label, length) {
      const named = (i: number) => (endpoints.length > 1 ? `${label} node ${i + 1}` : label);
      const requests = await Promise.all(endpoints.map(async (endpoint, i) => checkOnce(named(i), endpoint, await endpoint.prepare(length))));
      const before = cpu();
      const results = await Promise.all(requests.map((request, i) => (generators[i] as LoadGenerator).run(named(i), request, length)));
      const used = cpu() - before;
      const most = (key: 'p50Ms' | 'p95Ms' | 'p99Ms') => Math.max(...results.map((r) => r[key]));
      const sum = (key: 'requests' | 'rps' | 'poolUsed') => results.reduce((total, r) => total + r[key], 0);
      const total = sum('requests');
      return { requests: total, seconds: Math.max(...results.map((r) => r.seconds)), rps: sum('rps'), p50Ms: most('p50Ms'), p95Ms: most('p95Ms'), p99Ms: most('p99Ms'), poolUsed: sum('poolUsed'), cpuUsPerRequest: (used * 1e6) / total };
    },
  };
}

try {
  if (connections < 2) throw new Error('BENCH_CONNECTIONS must be at least 2 (two nodes take half each)');
  if (warmupSeconds + seconds + 60 > codeTtlSeconds) throw new Error(`BENCH_SECONDS must leave pre-made codes time to live (${codeTtlSeconds} s in all)`);
  const loadBefore = load();
  say(`Consulate: ${build.label}; load average ${loadBefore}`);
  const postgres = await startPostgresServer({ settings: { synchronous_commit: synchronousCommit }, ...(pin ? { cpu: pin.server } : {}) });
  run.afterServers(postgres.stop);
  const version = await serverVersion(postgres.adminUrl);
  const [oneUrl, twoUrl] = [await createDatabase(postgres.adminUrl, 'bench_one'), await createDatabase(postgres.adminUrl, 'bench_two')];
  say(`PostgreSQL ${version} on 127.0.0.1 (${Object.entries(postgres.settings).map(([k, v]) => `${k}=${v}`).join(', ')})`);

  const cpu = pin?.server;
  const sqlite = started('SQLite', await startConsulate(join(dir, 'sqlite'), build, cpu));
  const one = started('PG 1 node', await startConsulate(join(dir, 'pg-one'), build, cpu, { databaseUrl: oneUrl }));
  // Started one after the other: the second finds the schema and the keys the first made.
  const nodeA = started('PG node A', await startConsulate(join(dir, 'pg-a'), build, cpu, { databaseUrl: twoUrl }));
  const nodeB = started('PG node B', await startConsulate(join(dir, 'pg-b'), build, cpu, { databaseUrl: twoUrl, issuer: nodeA.url }));

  const sample = await post(sqlite.url, consulateTokenRequest.path, consulateTokenRequest.headers, consulateTokenRequest.body);
  const baseline = started('baseline', await startBaseline(Buffer.byteLength(sample.text), cpu));
  const [baselineRounds = []] = await measure(settings, 'baseline (bare Hono POST)', [single('baseline', baselineEndpoint(baseline), generator)]);
  const baselineSide = side('baseline', baselineRounds);
  const rows: StoreRow[] = [{ target: 'baseline (bare Hono POST)', store: 'baseline', side: baselineSide, vsBaseline: 1 }];

  // Client credentials come first: the code pools are sized from that rate, per configuration.
  // Each node of two makes a pool for the rate of both, so an uneven split cannot run it dry.
  const rates = new Map<string, number>();
  const rateOf = (store: string) => (name: string) => {
    const rate = name === names.clientCredentials ? rates.get(store) : undefined;
    if (rate === undefined) throw new Error(`${name} must be measured before the targets sized from it`);
    return rate;
  };
  const targetsOf = (store: string, consulate: typeof sqlite) =>
    makeTargets({ consulate, connections, rateOf: rateOf(store), log: say }).filter((t) => measured.includes(t.name as (typeof measured)[number]));
  const byStore: Record<string, Target[]> = {
    [stores.sqlite]: targetsOf(stores.sqlite, sqlite),
    [stores.one]: targetsOf(stores.one, one),
    a: targetsOf(stores.two, nodeA),
    b: targetsOf(stores.two, nodeB),
  };
  const endpoint = (key: string, i: number) => (byStore[key]?.[i] as Target).consulate;
  for (const [i, name] of (byStore[stores.sqlite] ?? []).map((t) => t.name).entries()) {
    const contenders = [
      nodes(stores.sqlite, [endpoint(stores.sqlite, i)], [generator], () => cpuSeconds([sqlite.pid])),
      nodes(stores.one, [endpoint(stores.one, i)], [generator], () => cpuSeconds([one.pid], [postgres.pid])),
      nodes(stores.two, [endpoint('a', i), endpoint('b', i)], halves, () => cpuSeconds([nodeA.pid, nodeB.pid], [postgres.pid])),
    ];
    const results = await measure(settings, name, contenders);
    const sides = contenders.map((c, j) => side(c.server, results[j] ?? []));
    if (name === names.clientCredentials) for (const s of sides) rates.set(s.server, s.rps);
    const cpuPerRequest = results.map((rounds) => median(rounds.map((r) => r.cpuUsPerRequest ?? Number.NaN)));
    const [sqliteSide, sqliteCpu] = [sides[0] as Side, cpuPerRequest[0] as number];
    for (const [j, s] of sides.entries()) {
      const us = cpuPerRequest[j] as number;
      rows.push({ target: name, store: s.server, side: s, vsBaseline: s.rps / baselineSide.rps, cpuUsPerRequest: us, ...(j > 0 ? { vsSqlite: s.rps / sqliteSide.rps, cpuVsSqlite: us / sqliteCpu } : {}) });
    }
  }

  const loadAfter = load();
  const pinning = pin
    ? `CPU ${pin.server}: every Consulate node, the baseline and PostgreSQL (postmaster and backends); CPU ${pin.load}: the load generator(s) (taskset)`
    : 'not pinned (taskset or a second CPU missing)';
  console.log(`\nConsulate on SQLite and PostgreSQL: Consulate (${build.label}), PostgreSQL ${version}, a bare-Hono baseline.`);
  console.log(`Load: ${generator.description}; 2 nodes: two wrk at once, ${halves.map((h) => h.description.match(/-c\d+|\d+ connections/)?.[0]).join(' + ')}, rates summed, latencies the larger of the two.`);
  console.log(`CPUs: ${pinning}; loopback, Node ${process.version}, ${cpus} CPUs; load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}.`);
  console.log(`Per target and store: one ${warmupSeconds} s warm-up, then ${rounds} round(s) of ${seconds} s, alternating ${Object.values(stores).join(' / ')}; medians of the rounds; ratios of the medians.`);
  console.log(`PostgreSQL: throwaway cluster, ${Object.entries(postgres.settings).filter(([k]) => k !== 'listen_addresses').map(([k, v]) => `${k}=${v}`).join(', ')}, other settings default; Consulate's pool: database.pool_size default (10 per node). SQLite: WAL, synchronous=NORMAL.\n`);
  console.log(formatStoreRows(rows));
  const cc = rows.filter((r) => r.target === names.clientCredentials && r.vsSqlite !== undefined);
  console.log(`\nGoal (issue 16 §5): issuance with receipts on PostgreSQL within 2x of SQLite: client credentials ${cc.map((r) => `${r.store} ${(r.vsSqlite as number).toFixed(2)}x the rate (goal ≥ 0.50x), ${(r.cpuVsSqlite as number).toFixed(2)}x the CPU per request`).join('; ')}.`);
  console.log('CPU µs/req: user + system CPU of the Consulate node(s), and for PostgreSQL of the postmaster and all its children (backends, autovacuum), during the load only, per request answered.');
  const memory = named.map(({ label, server, idle }) => ({ label, idle, after: server.memory() }));
  console.log('\nServer memory (VmRSS), idle before load → after the run (peak VmHWM):');
  for (const { label, idle, after } of memory) console.log(`  ${label.padEnd(10)} ${mb(idle)} → ${mb(after)} (peak ${after ? `${after.hwmMb.toFixed(0)} MB` : 'n/a'})`);
  if (process.env.BENCH_JSON) {
    const json = { seconds, warmupSeconds, rounds, connections, load: generator.name, pinned: pin ?? false, consulate: build.label, postgres: { version, settings: postgres.settings }, node: process.version, loadBefore, loadAfter };
    writeStoreJson(process.env.BENCH_JSON, json, rows, memory);
    console.log(`\nJSON written to ${process.env.BENCH_JSON}`);
  }
} catch (error) {
  console.error(`\nBENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await run.finish();
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}
