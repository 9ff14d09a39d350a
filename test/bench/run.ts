// `npm run bench`: HTTP throughput and latency of Consulate against a bare Hono baseline, over
// loopback with autocannon. Each server runs in its own child process; every target is checked
// once, warmed up, then measured for BENCH_SECONDS (10) with BENCH_CONNECTIONS (10) connections.
// Prints a table; writes JSON to BENCH_JSON if set. Fails on any non-2xx or unexpected body.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { secrets } from '../e2e/support/consulate.ts';
import { spawnServer, type ServerProcess } from './child.ts';
import { formatTable, toRows, writeJson, type Measurement } from './report.ts';

const seconds = envNumber('BENCH_SECONDS', 10);
const connections = envNumber('BENCH_CONNECTIONS', 10, true);
const warmupSeconds = 2;
const logging = 'Consulate request logs at level info, serialized by pino into a discarding stream';

type Request = { path: string; headers: Record<string, string>; body: string };
type Target = {
  name: string;
  url: string;
  request: () => Promise<Request>;
  /** Full check of the one response fetched before load. */
  verifyJson: (json: Record<string, unknown>) => boolean;
  /** Cheap check of every response under load. */
  verifyBody: (body: string) => boolean;
};

function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return value;
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const basicAuth = (id: keyof typeof secrets) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secrets[id])}`).toString('base64')}`;
const formHeaders = (id: keyof typeof secrets) => ({ authorization: basicAuth(id), 'content-type': 'application/x-www-form-urlencoded' });

const tokenRequest: Request = {
  path: '/token',
  headers: formHeaders('agent-basic'),
  body: form({ grant_type: 'client_credentials', resource: 'https://api.demo.example', scope: 'read-data' }),
};
const isTokenResponse = (json: Record<string, unknown>) => typeof json.access_token === 'string' && String(json.token_type).toLowerCase() === 'bearer';
const looksLikeTokenResponse = (body: string) => body.includes('"access_token":"');

async function post(url: string, request: Request): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(`${url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throw new Error(`POST ${url}${request.path}: ${error instanceof Error ? String(error.cause ?? error.message) : String(error)}`);
  }
}

async function check(target: Target, request: Request): Promise<string> {
  const { status, text } = await post(target.url, request);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (status !== 200 || !target.verifyJson(json)) throw new Error(`${target.name}: expected 200 with the expected JSON, got ${status} ${text.slice(0, 300)}`);
  return text;
}

/** One autocannon run; throws if anything but 2xx responses with the expected body came back. */
async function load(target: Target, request: Request, duration: number, phase: string): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const instance = autocannon({
    url: `${target.url}${request.path}`,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    connections,
    duration,
    verifyBody: target.verifyBody,
  });
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) latenciesMs.push(ms);
  });
  const result = await instance;
  const problems = [
    result.non2xx && `${result.non2xx} non-2xx responses (status counts ${JSON.stringify(result.statusCodeStats)})`,
    result.errors && `${result.errors} connection errors (${result.timeouts} timeouts)`,
    result.mismatches && `${result.mismatches} responses with an unexpected body (an introspected Passport expires after 300 s)`,
    latenciesMs.length === 0 && 'no responses',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${target.name} (${phase}): ${problems.join('; ')}`);
  return { target: target.name, requests: latenciesMs.length, seconds: result.duration, latenciesMs };
}

const dir = mkdtempSync(join(tmpdir(), 'consulate-bench-'));
const servers: ServerProcess[] = [];
let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= Promise.allSettled(servers.map((s) => s.stop())).then(() => rmSync(dir, { recursive: true, force: true })));
const interrupt = () => void cleanup().finally(() => process.exit(130));
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

const start = async (entry: string, env: NodeJS.ProcessEnv) => {
  const server = await spawnServer(entry, env);
  servers.push(server);
  return server;
};

try {
  const consulate = await start('consulate-server.ts', { BENCH_DIR: dir });
  const sample = await post(consulate.url, tokenRequest);
  if (sample.status !== 200) throw new Error(`consulate: POST /token answered ${sample.status} ${sample.text.slice(0, 300)}`);
  // The baseline answers with a body as long as a real token response.
  const baseline = await start('baseline-server.ts', { BENCH_BODY_BYTES: String(Buffer.byteLength(sample.text)) });

  const targets: Target[] = [
    { name: 'baseline (bare Hono POST)', url: baseline.url, request: async () => tokenRequest, verifyJson: isTokenResponse, verifyBody: looksLikeTokenResponse },
    { name: 'client_credentials /token', url: consulate.url, request: async () => tokenRequest, verifyJson: isTokenResponse, verifyBody: looksLikeTokenResponse },
    {
      name: 'introspection /introspect',
      url: consulate.url,
      // A fresh Passport, issued just before this target runs.
      request: async () => {
        const { access_token } = JSON.parse((await post(consulate.url, tokenRequest)).text) as { access_token: string };
        return { path: '/introspect', headers: formHeaders('demo-api'), body: form({ token: access_token }) };
      },
      verifyJson: (json) => json.active === true && json.sub === 'agent-basic',
      verifyBody: (body) => body.startsWith('{"active":true'),
    },
  ];

  const measurements: Measurement[] = [];
  for (const target of targets) {
    const request = await target.request();
    await check(target, request);
    console.error(`${target.name}: warm-up ${warmupSeconds} s, then measuring ${seconds} s…`);
    await load(target, request, warmupSeconds, 'warm-up');
    measurements.push(await load(target, request, seconds, 'measurement'));
  }

  const rows = toRows(measurements);
  const settings = {
    seconds,
    warmupSeconds,
    connections,
    node: process.version,
    cpus: availableParallelism(),
    logging,
  };
  console.log(`Consulate benchmark: autocannon, ${connections} connections, ${warmupSeconds} s warm-up + ${seconds} s per target, loopback, Node ${process.version}, ${settings.cpus} CPUs.`);
  console.log(`Each server runs in its own child process; ${logging}; SQLite store in a temp dir.`);
  console.log('');
  console.log(formatTable(rows));
  if (process.env.BENCH_JSON) {
    writeJson(process.env.BENCH_JSON, settings, rows);
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
