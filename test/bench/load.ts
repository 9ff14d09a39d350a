// Load generators of `npm run bench`, one interface: wrk (Debian's package, wrk-bench.lua) when it
// is installed, else autocannon in this process. Both hold the same number of connections open for
// a fixed time and report requests/s and exact p50/p95/p99; both fail on any non-2xx response or
// socket error. wrk runs as its own process (pinned to the load CPU); autocannon runs here, so run.ts
// pins this process. Single-use credentials come as a pool: one request each, never reused.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';

/** One pooled request: a form body, and a DPoP proof for the header when the target needs one. */
export type Pooled = { body: string; dpop?: string };
export type LoadRequest = {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** The same body every time, or one from `pool` per request. */
  body?: string;
  pool?: Pooled[];
  /** Cheap check of every response body (autocannon only: wrk does not read bodies). */
  verifyBody?: (body: string) => boolean;
};
export type LoadResult = { requests: number; seconds: number; rps: number; p50Ms: number; p95Ms: number; p99Ms: number; poolUsed: number };
export type LoadGenerator = {
  name: string;
  /** What it does, for the report. */
  description: string;
  run(label: string, request: LoadRequest, seconds: number): Promise<LoadResult>;
};

/** Sent once a pool is used up: answered 4xx, so the run fails even if the stop comes late. */
const exhaustedBody = 'pool_exhausted=1';

export const wrkInstalled = (): boolean => spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;

/** `wrk -t1 -c<connections> -d<seconds>s`, optionally pinned with `taskset -c <cpu>`. */
export function wrkGenerator(connections: number, cpu: number | undefined, scratchDir: string): LoadGenerator {
  const script = resolve(import.meta.dirname, 'wrk-bench.lua');
  let runs = 0;
  return {
    name: 'wrk',
    description: `wrk -t1 -c${connections} (wrk-bench.lua; statuses checked, bodies not read)`,
    async run(label, request, seconds) {
      const wrkArgs = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', script, `${request.url}${request.path}`];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        BENCH_METHOD: 'POST',
        BENCH_THREADS: '1',
        BENCH_HEADERS: Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`).join('\n'),
        BENCH_BODY: request.body ?? '',
        BENCH_POOL: '',
      };
      if (request.pool) {
        env.BENCH_POOL = join(scratchDir, `pool-${++runs}.txt`);
        writeFileSync(env.BENCH_POOL, `${request.pool.map((p) => `${p.dpop ?? ''}\t${p.body}`).join('\n')}\n`);
      }
      const [command, args] = cpu === undefined ? ['wrk', wrkArgs] : ['taskset', ['-c', String(cpu), 'wrk', ...wrkArgs]];
      const { code, stdout, stderr } = await runBounded(command, args, env, (seconds + 60) * 1000).finally(() => env.BENCH_POOL && rmSync(env.BENCH_POOL, { force: true }));
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
      if (code !== 0 || !line) throw new Error(`${label}: wrk exited ${code}: ${(stderr || stdout).trim().slice(0, 400)}`);
      const r = JSON.parse(line.slice(6)) as LoadResult & { non2xx: number; connectErrors: number; readErrors: number; writeErrors: number; timeouts: number };
      const problems = [
        r.non2xx && `${r.non2xx} responses with status ≥ 400`,
        (r.connectErrors || r.readErrors || r.writeErrors) && `socket errors (connect ${r.connectErrors}, read ${r.readErrors}, write ${r.writeErrors})`,
        r.timeouts && `${r.timeouts} timeouts`,
        request.pool && r.poolUsed > request.pool.length && `the pool of ${request.pool.length} ran out`,
        r.requests === 0 && 'no responses',
      ].filter(Boolean);
      if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
      return { requests: r.requests, seconds: r.seconds, rps: r.rps, p50Ms: r.p50Ms, p95Ms: r.p95Ms, p99Ms: r.p99Ms, poolUsed: r.poolUsed };
    },
  };
}

/** Runs a command to the end, killed if it outlives `limitMs`. */
function runBounded(command: string, args: string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** autocannon in this process, `connections` connections; every response body is checked too. `why`: why not wrk. */
export function autocannonGenerator(connections: number, why: string): LoadGenerator {
  return {
    name: 'autocannon',
    description: `autocannon, ${connections} connections, in the bench process, instead of wrk (${why}); bodies checked`,
    async run(label, request, seconds) {
      const latenciesMs: number[] = [];
      const pool = request.pool;
      let used = 0;
      let exhausted = false;
      let instance: autocannon.Instance | undefined = undefined;
      instance = autocannon({
        url: `${request.url}${request.path}`,
        method: 'POST',
        headers: request.headers,
        ...(pool
          ? {
              // Called as each request is built (per connection, the first one when it is created).
              requests: [
                {
                  setupRequest: (built) => {
                    const next = pool[used++];
                    if (next) return { ...built, body: next.body, ...(next.dpop ? { headers: { ...built.headers, dpop: next.dpop } } : {}) };
                    if (!exhausted) setImmediate(() => instance?.stop());
                    exhausted = true;
                    return { ...built, body: exhaustedBody };
                  },
                },
              ],
            }
          : { body: request.body ?? '' }),
        connections,
        duration: seconds,
        ...(request.verifyBody ? { verifyBody: request.verifyBody } : {}),
      });
      instance.on('response', (_client, statusCode, _bytes, ms) => {
        if (statusCode >= 200 && statusCode < 300) latenciesMs.push(ms);
      });
      const result = await instance;
      const problems = [
        exhausted && pool && `the pool of ${pool.length} ran out`,
        result.non2xx && `${result.non2xx} non-2xx responses (status counts ${JSON.stringify(result.statusCodeStats)})`,
        result.errors && `${result.errors} connection errors (${result.timeouts} timeouts)`,
        result.mismatches && `${result.mismatches} responses with an unexpected body`,
        latenciesMs.length === 0 && 'no responses',
      ].filter(Boolean);
      if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
      const sorted = latenciesMs.sort((a, b) => a - b);
      return {
        requests: sorted.length,
        seconds: result.duration,
        rps: sorted.length / result.duration,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        p99Ms: percentile(sorted, 99),
        poolUsed: used,
      };
    },
  };
}
