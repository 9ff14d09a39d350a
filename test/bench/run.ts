// `npm run bench`: HTTP throughput, latency and memory of Consulate against a published peer
// (node-oidc-provider 9, peer-server.ts) measured in the same run, and against a bare-Hono baseline.
// Protocol (the team's reference figures were taken this way, so ratios compare): each server in its
// own process pinned to CPU 0, the load generator pinned to CPU 1 (when taskset and 2 CPUs exist;
// this machine is noisy otherwise); wrk -t1 -c50 when installed, else autocannon with 50
// connections; one warm-up per server and target, then BENCH_ROUNDS (3) rounds of BENCH_SECONDS (5)
// alternating Consulate / peer; figures are medians of the rounds, ratios are ratios of the medians.
// Every phase first checks one full response; any non-2xx or socket error under load fails the run.
// Memory: VmRSS / VmHWM of each server process (idle, after each target, peak). CPU per request:
// the server's user + system time over a round ÷ its requests (cpu.ts); on this shared machine it
// swings far less than requests/s, so its ratio to the peer's is the steadier comparison.
//
// `npm run bench:quick` (--quick): client credentials and introspection against the peer, one short
// round, no baseline: a regression guard that prints the ratios and fails only on errors, never on
// slow numbers. BENCH_JSON=<file> writes the figures as JSON.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { cpuSeconds } from './cpu.ts';
import { codeTtlSeconds } from './person.ts';
import { chooseGenerator, createRun, measure, pinCpus, readSettings, say, single } from './protocol.ts';
import { compare, formatComparisons, side, writeComparisonJson, type Comparison } from './report.ts';
import { chooseBuild, startBaseline, startConsulate, startPeer } from './servers.ts';
import type { Memory } from './spawn.ts';
import { baselineEndpoint, consulateTokenRequest, makeTargets, poolMargins, post } from './targets.ts';

const quick = process.argv.includes('--quick');
const settings = readSettings(quick);
const { seconds, warmupSeconds, rounds, connections } = settings;
const logging = 'Consulate logs requests at level info, serialized by pino into a discarding stream';

const mb = (m: Memory | undefined) => (m ? `${m.rssMb.toFixed(0)} MB` : 'n/a');

const run = createRun();
const { dir, named, started } = run;

const cpus = availableParallelism();
const pin = pinCpus();
const generator = chooseGenerator(connections, pin, dir);
const build = chooseBuild();
const peerVersion = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../node_modules/oidc-provider/package.json'), 'utf8')) as { version: string }).version;

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
    const [baselineRounds = []] = await measure(settings, 'baseline (bare Hono POST)', [single('baseline', baselineEndpoint(baseline), generator, () => cpuSeconds([baseline.pid]))]);
    const summary = side('baseline', baselineRounds, baseline.memory());
    baselineRps = summary.rps;
    comparisons.push(compare('baseline (bare Hono POST)', summary, undefined, baselineRps));
  }

  const rateOf = (name: string) => {
    const found = comparisons.find((c) => c.target === name);
    if (!found) throw new Error(`${name} must be measured before the targets sized from it`);
    return found.consulate.rps;
  };
  // BENCH_TARGETS: a comma-separated list of parts of target names (e.g. "token exchange"), to measure only those.
  const only = process.env.BENCH_TARGETS?.split(',').map((part) => part.trim()).filter(Boolean);
  const targets = makeTargets({ consulate, peer, connections, rateOf, log: say }).filter((t) => (!quick || t.quick) && (!only || only.some((part) => t.name.includes(part))));
  for (const target of targets) {
    const contenders = [
      single('Consulate', target.consulate, generator, () => cpuSeconds([consulate.pid])),
      ...(target.peer ? [single('peer', target.peer, generator, () => cpuSeconds([peer.pid]))] : []),
    ];
    const [ours = [], theirs] = await measure(settings, target.name, contenders);
    const peerSide = target.peer && theirs ? { ...side('peer', theirs, peer.memory()), target: target.peer.name } : undefined;
    comparisons.push(compare(target.name, side('Consulate', ours, consulate.memory()), peerSide, baselineRps));
  }

  const pinning = pin ? `servers pinned to CPU ${pin.server}, load generator to CPU ${pin.load} (taskset)` : 'not pinned (taskset or a second CPU missing)';
  console.log(`\n${quick ? 'Quick regression check (never fails on slow numbers, only on errors)' : 'Consulate benchmark'}: Consulate (${build.label}) vs oidc-provider ${peerVersion} (peer)${quick ? '' : ' and a bare-Hono baseline'}.`);
  console.log(`Load: ${generator.description}; ${pinning}; loopback, Node ${process.version}, ${cpus} CPUs.`);
  console.log(`Per target and server: one ${warmupSeconds} s warm-up, then ${rounds} round(s) of ${seconds} s, alternating Consulate / peer; medians of the rounds; ratios of the medians.`);
  console.log(`${logging}; SQLite store in a temp dir. CPU: the server's user + system time per request (median of the rounds); CPU vs peer: the peer's ÷ Consulate's. RSS: VmRSS of the server after the target; peak: VmHWM so far (Consulate's includes the pools it makes).\n`);
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
  await run.finish();
}
