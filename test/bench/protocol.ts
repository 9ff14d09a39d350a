// The measuring protocol shared by `npm run bench` (run.ts) and `npm run bench:postgres`
// (stores.ts): settings from the environment, CPU pinning, the load generator, the servers of a run
// and their cleanup, and measure(): one warm-up per contender, then rounds alternating between them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeCompiled } from './compile.ts';
import { autocannonGenerator, wrkGenerator, wrkInstalled, type LoadGenerator, type LoadRequest, type LoadResult } from './load.ts';
import type { Round } from './report.ts';
import type { Memory, ServerProcess } from './spawn.ts';
import { checkOnce, type Endpoint } from './targets.ts';

export const say = (line: string): void => console.error(line);

export function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return value;
}

export type Settings = { seconds: number; warmupSeconds: number; rounds: number; connections: number };

export const readSettings = (quick: boolean): Settings => ({
  seconds: envNumber('BENCH_SECONDS', quick ? 2 : 5, true),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', quick ? 1 : 2, true),
  rounds: envNumber('BENCH_ROUNDS', quick ? 1 : 3, true),
  connections: envNumber('BENCH_CONNECTIONS', 50, true),
});

export type Pinning = { server: number; load: number };

/** Servers on CPU 0, load generator (and this process) on CPU 1, when taskset works and there are 2 CPUs. */
export function pinCpus(): Pinning | undefined {
  if (process.env.BENCH_PIN === '0' || availableParallelism() < 2) return undefined;
  const self = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  return self.error || self.status !== 0 ? undefined : { server: 0, load: 1 };
}

/** wrk with `connections` connections when installed (pinned to the load CPU), else autocannon. */
export function chooseGenerator(connections: number, pin: Pinning | undefined, scratchDir: string): LoadGenerator {
  if (process.env.BENCH_LOAD === 'autocannon') return autocannonGenerator(connections, 'BENCH_LOAD=autocannon');
  return wrkInstalled() ? wrkGenerator(connections, pin?.load, scratchDir) : autocannonGenerator(connections, 'wrk is not installed: apt-get install wrk');
}

/** The run's scratch dir, its servers (named for the report, with their idle memory) and one cleanup for all. */
export function createRun() {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-bench-'));
  const servers: ServerProcess[] = [];
  const named: { label: string; server: ServerProcess; idle: Memory | undefined }[] = [];
  const afterServers: (() => void)[] = [];
  const started = (label: string, server: ServerProcess) => {
    servers.push(server);
    named.push({ label, server, idle: server.memory() });
    return server;
  };
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= Promise.allSettled(servers.map((s) => s.stop())).then(() => {
      for (const then of afterServers) then();
      rmSync(dir, { recursive: true, force: true });
      removeCompiled();
    }));
  const interrupt = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  return {
    dir,
    named,
    started,
    /** Run once the servers have stopped (e.g. stopping the database they used). */
    afterServers: (then: () => void) => void afterServers.push(then),
    async finish() {
      await cleanup();
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    },
  };
}

/** Something measured for a phase of `seconds`: one server and endpoint, or several at once (stores.ts). */
export type Contender = { server: string; run(label: string, seconds: number): Promise<LoadResult & Pick<Round, 'cpuUsPerRequest'>> };

/** One server under one generator; `cpu` (CPU seconds of the server so far, cpu.ts) adds CPU per request. */
export const single = (server: string, endpoint: Endpoint, generator: LoadGenerator, cpu?: () => number): Contender => ({
  server,
  async run(label, seconds) {
    const request = await checkOnce(label, endpoint, await endpoint.prepare(seconds));
    const before = cpu?.();
    const result = await generator.run(label, request, seconds);
    return before === undefined || !cpu ? result : { ...result, cpuUsPerRequest: ((cpu() - before) * 1e6) / result.requests };
  },
});

/** A warm-up of each contender, then `rounds` rounds alternating between them; every round's figures per contender. */
export async function measure(settings: Settings, name: string, contenders: Contender[]): Promise<Round[][]> {
  const { warmupSeconds, seconds, rounds } = settings;
  say(`${name}: warm-up ${warmupSeconds} s, then ${rounds} × ${seconds} s${contenders.length > 1 ? ` alternating ${contenders.map((c) => c.server).join(' / ')}` : ''}`);
  for (const { server, run } of contenders) await run(`${name} (${server}, warm-up)`, warmupSeconds);
  const results: Round[][] = contenders.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, { server, run }] of contenders.entries()) {
      const r = await run(`${name} (${server}, round ${round})`, seconds);
      results[i]?.push(r);
      say(`  ${server.padEnd(9)} round ${round}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
    }
  }
  return results;
}
