// `npm run bench`: HTTP throughput, latency and memory of Consulate against a published peer
// (node-oidc-provider 9, peer-server.ts) measured in the same run, and against a bare-Hono baseline.
// Protocol (the team's reference figures were taken this way, so ratios compare): each server in its
// own process pinned to CPU 0, the load generator pinned to CPU 1 (when taskset and 2 CPUs exist;
// this machine is noisy otherwise); wrk -t1 -c50 when installed, else autocannon with 50
// connections; one warm-up per server and target, then BENCH_ROUNDS (3) rounds of BENCH_SECONDS (5)
// alternating Consulate / peer; figures are medians of the rounds, ratios are ratios of the medians.
// Every phase first checks one full response; any non-2xx or socket error under load fails the run.
// Memory: VmRSS / VmHWM of each server process (idle, after each target, peak).
//
// `npm run bench:quick` (--quick): client credentials and introspection against the peer, one short
// round, no baseline: a regression guard that prints the ratios and fails only on errors, never on
// slow numbers. BENCH_JSON=<file> writes the figures as JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeCompiled } from './compile.ts';
import { autocannonGenerator, wrkGenerator, wrkInstalled, type LoadGenerator, type LoadResult } from './load.ts';
import { codeTtlSeconds } from './person.ts';
import { compare, formatComparisons, side, writeComparisonJson, type Comparison, type Round } from './report.ts';
import { chooseBuild, startBaseline, startConsulate, startPeer } from './servers.ts';
import type { Memory, ServerProcess } from './spawn.ts';
import { baselineEndpoint, checkOnce, consulateTokenRequest, makeTargets, poolMargins, post, type Endpoint } from './targets.ts';

const quick = process.argv.includes('--quick');
const seconds = envNumber('BENCH_SECONDS', quick ? 2 : 5, true);
const warmupSeconds = envNumber('BENCH_WARMUP_SECONDS', quick ? 1 : 2, true);
const rounds = envNumber('BENCH_ROUNDS', quick ? 1 : 3, true);
const connections = envNumber('BENCH_CONNECTIONS', 50, true);
const logging = 'Consulate logs requests at level info, serialized by pino into a discarding stream';

function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return value;
}

/** Servers on CPU 0, load generator (and this process) on CPU 1, when taskset works and there are 2 CPUs. */
function pinCpus(): { server: number; load: number } | undefined {
  if (process.env.BENCH_PIN === '0' || availableParallelism() < 2) return undefined;
  const self = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  return self.error || self.status !== 0 ? undefined : { server: 0, load: 1 };
}

const say = (line: string) => console.error(line);
const mb = (m: Memory | undefined) => (m ? `${m.rssMb.toFixed(0)} MB` : 'n/a');

const dir = mkdtempSync(join(tmpdir(), 'consulate-bench-'));
const servers: ServerProcess[] = [];
/** Servers by the name the report uses, with their memory when idle before any load. */
const named: { label: string; server: ServerProcess; idle: Memory | undefined }[] = [];
const started = (label: string, server: ServerProcess) => {
  servers.push(server);
  named.push({ label, server, idle: server.memory() });
  return server;
};
let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= Promise.allSettled(servers.map((s) => s.stop())).then(() => {
    rmSync(dir, { recursive: true, force: true });
    removeCompiled();
  }));
const interrupt = () => void cleanup().finally(() => process.exit(130));
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

const cpus = availableParallelism();
const pin = pinCpus();
const generator: LoadGenerator =
  process.env.BENCH_LOAD === 'autocannon'
    ? autocannonGenerator(connections, 'BENCH_LOAD=autocannon')
    : wrkInstalled()
      ? wrkGenerator(connections, pin?.load, dir)
      : autocannonGenerator(connections, 'wrk is not installed: apt-get install wrk');
const build = chooseBuild();
const peerVersion = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../node_modules/oidc-provider/package.json'), 'utf8')) as { version: string }).version;

/** One phase: the endpoint's request for `length` seconds, checked once, then under load. */
async function phase(label: string, endpoint: Endpoint, length: number): Promise<LoadResult> {
  const request = await checkOnce(label, endpoint, await endpoint.prepare(length));
  return generator.run(label, request, length);
}

/** A warm-up of each endpoint, then `rounds` rounds alternating between them. */
async function measure(name: string, endpoints: { server: string; endpoint: Endpoint }[]): Promise<Round[][]> {
  say(`${name}: warm-up ${warmupSeconds} s, then ${rounds} × ${seconds} s${endpoints.length > 1 ? ` alternating ${endpoints.map((e) => e.server).join(' / ')}` : ''}`);
  for (const { server, endpoint } of endpoints) await phase(`${name} (${server}, warm-up)`, endpoint, warmupSeconds);
  const results: Round[][] = endpoints.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, { server, endpoint }] of endpoints.entries()) {
      const r = await phase(`${name} (${server}, round ${round})`, endpoint, seconds);
      results[i]?.push(r);
      say(`  ${server.padEnd(9)} round ${round}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
    }
  }
  return results;
}

try {
  if (warmupSeconds + seconds + 60 > codeTtlSeconds) throw new Error(`BENCH_SECONDS must leave pre-made codes time to live (${codeTtlSeconds} s in all)`);
  say(`Consulate: ${build.label}`);
  const consulate = started('Consulate', await startConsulate(dir, build, pin?.server));
  const peer = started('peer', await startPeer(pin?.server));

  const comparisons: Comparison[] = [];
  let baselineRps: number | undefined;
  if (!quick) {
    // The baseline answers with a body as long as a real token response.
    const sample = await post(consulate.url, consulateTokenRequest.path, consulateTokenRequest.headers, consulateTokenRequest.body);
    const baseline = started('baseline', await startBaseline(Buffer.byteLength(sample.text), pin?.server));
    const [baselineRounds = []] = await measure('baseline (bare Hono POST)', [{ server: 'baseline', endpoint: baselineEndpoint(baseline) }]);
    const summary = side('baseline', baselineRounds, baseline.memory());
    baselineRps = summary.rps;
    comparisons.push(compare('baseline (bare Hono POST)', summary, undefined, baselineRps));
  }

  const rateOf = (name: string) => {
    const found = comparisons.find((c) => c.target === name);
    if (!found) throw new Error(`${name} must be measured before the targets sized from it`);
    return found.consulate.rps;
  };
  const targets = makeTargets({ consulate, peer, connections, rateOf, log: say }).filter((t) => !quick || t.quick);
  for (const target of targets) {
    const endpoints = [{ server: 'Consulate', endpoint: target.consulate }, ...(target.peer ? [{ server: 'peer', endpoint: target.peer }] : [])];
    const [ours = [], theirs] = await measure(target.name, endpoints);
    const peerSide = target.peer && theirs ? { ...side('peer', theirs, peer.memory()), target: target.peer.name } : undefined;
    comparisons.push(compare(target.name, side('Consulate', ours, consulate.memory()), peerSide, baselineRps));
  }

  const pinning = pin ? `servers pinned to CPU ${pin.server}, load generator to CPU ${pin.load} (taskset)` : 'not pinned (taskset or a second CPU missing)';
  console.log(`\n${quick ? 'Quick regression check (never fails on slow numbers, only on errors)' : 'Consulate benchmark'}: Consulate (${build.label}) vs oidc-provider ${peerVersion} (peer)${quick ? '' : ' and a bare-Hono baseline'}.`);
  console.log(`Load: ${generator.description}; ${pinning}; loopback, Node ${process.version}, ${cpus} CPUs.`);
  console.log(`Per target and server: one ${warmupSeconds} s warm-up, then ${rounds} round(s) of ${seconds} s, alternating Consulate / peer; medians of the rounds; ratios of the medians.`);
  console.log(`${logging}; SQLite store in a temp dir. RSS: VmRSS of the server after the target; peak: VmHWM so far (Consulate's includes the pools it makes).\n`);
  console.log(formatComparisons(comparisons));
  const memory = named.map(({ label, server, idle }) => ({ label, idle, after: server.memory() }));
  console.log('\nServer memory (VmRSS), idle before load → after the run (peak VmHWM):');
  for (const { label, idle, after } of memory) console.log(`  ${label.padEnd(9)} ${mb(idle)} → ${mb(after)} (peak ${after ? `${after.hwmMb.toFixed(0)} MB` : 'n/a'})`);
  if (process.env.BENCH_JSON) {
    const settings = { quick, seconds, warmupSeconds, rounds, connections, load: generator.name, pinned: pin ?? false, consulate: build.label, peer: `oidc-provider ${peerVersion}`, node: process.version, cpus, logging, poolMargins };
    writeComparisonJson(process.env.BENCH_JSON, settings, comparisons, memory);
    console.log(`\nJSON written to ${process.env.BENCH_JSON}`);
  }
} catch (error) {
  console.error(`\nBENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}
