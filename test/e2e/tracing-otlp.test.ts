// Traces from the real compiled server (`consulate serve`), configured only by OTEL_* variables:
// with an OTLP endpoint, a token request's spans reach a loopback OTLP/HTTP receiver (flushed at
// shutdown at the latest); with no OTEL_* variable, none of the OpenTelemetry SDK is even loaded.
// A module-resolution hook (node --import) lists every module the server process loads.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consulateCommand } from './support/cli.ts';
import { basicAuth } from './support/clients.ts';
import { fixtureEnv, makeConfigDir, secrets } from './support/consulate.ts';

const root = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-otlp-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** node --import <register.mjs>: appends the URL of every module the process resolves to $RESOLVED_LOG. */
function moduleLogHook(dir: string): string {
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  appendFileSync(process.env.RESOLVED_LOG, `${result.url}\\n`);\n  return result;\n}\n",
  );
  writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
  return join(dir, 'register.mjs');
}

/** The test's environment without CONSULATE_* or OTEL_* variables: only what a case sets applies. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONSULATE_') && !name.startsWith('OTEL_')));

type Served = { child: ChildProcess; url: string; exited: Promise<{ code: number | null; stderr: string }>; modules: () => string[] };

/** `consulate serve` on a free port with the module hook; resolves once it logs "listening". */
async function serve(env: NodeJS.ProcessEnv): Promise<Served> {
  const dir = tempDir();
  const { configDir, dataDir } = makeConfigDir({}, dir);
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const [node, args] = consulateCommand(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir]);
  const child = spawn(node, ['--import', moduleLogHook(dir), ...args], { cwd: root, env: { ...cleanEnv(), ...fixtureEnv(), RESOLVED_LOG: log, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((done) => child.once('close', (code) => done({ code, stderr })));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" line within 20 s\n${stderr}`)), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'listening' && entry.url) {
        clearTimeout(timer);
        done(entry.url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited (${code}) before listening\n${stderr}`));
    });
  });
  return { child, url, exited, modules: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** A client credentials request with a W3C traceparent; its trace id. */
async function tokenRequest(url: string): Promise<{ traceId: string; spanId: string; accessToken: string }> {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const response = await fetch(new URL('/token', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('agent-basic', secrets['agent-basic']), traceparent: `00-${traceId}-${spanId}-01` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const body = (await response.json()) as { access_token?: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return { traceId, spanId, accessToken: body.access_token as string };
}

const sdkModule = /\/node_modules\/@opentelemetry\/(sdk-trace-node|sdk-trace-base|exporter-trace-otlp-http|exporter-trace-otlp-proto|resources|core)\//;

type OtlpValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: OtlpValue }[] };
type OtlpExport = { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
const valueOf = (attributes: { key: string; value: OtlpValue }[], key: string) => {
  const value = attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : value?.boolValue);
};

describe('OTLP export from `consulate serve`', () => {
  let receiver: Server;
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let endpoint: string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        // protobuf bodies kept as latin1 text: every byte survives, and UTF-8 strings in them can be searched for.
        const bytes = Buffer.concat(chunks);
        received.push({ path: req.url ?? '', headers: req.headers, body: req.headers['content-type'] === 'application/json' ? bytes.toString('utf8') : bytes.toString('latin1') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((done) => receiver.close(() => done()));
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: a token request\'s spans arrive as OTLP/HTTP JSON with the service name, flushed at shutdown', async () => {
    // The batch delay is far longer than the test: what arrives was flushed when the server stopped.
    const served = await serve({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'consulate-under-test', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test', OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const { traceId, spanId, accessToken } = await tokenRequest(served.url);
    served.child.kill('SIGTERM');
    const { code, stderr } = await served.exited;
    expect(code, stderr).toBe(0);

    expect(received.length).toBeGreaterThan(0);
    for (const post of received) {
      expect(post.path).toBe('/v1/traces');
      expect(post.headers['content-type']).toBe('application/json');
      // Never a token or secret, anywhere in what was exported.
      for (const value of [accessToken, secrets['agent-basic'], basicAuth('agent-basic', secrets['agent-basic']).slice(6)]) expect(post.body).not.toContain(value);
    }
    const exports = received.map((r) => JSON.parse(r.body) as OtlpExport);
    const resources = exports.flatMap((e) => e.resourceSpans.map((r) => r.resource.attributes));
    expect(resources.every((r) => valueOf(r, 'service.name') === 'consulate-under-test' && valueOf(r, 'deployment.environment.name') === 'test')).toBe(true);
    const spans = exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))).filter((s) => s.traceId.toLowerCase() === traceId);
    const request = spans.find((s) => s.name === 'POST /token');
    expect(request, spans.map((s) => s.name).join(', ')).toBeDefined();
    expect(request?.parentSpanId?.toLowerCase()).toBe(spanId);
    expect(valueOf(request!.attributes, 'http.response.status_code')).toBe(200);
    expect(valueOf(request!.attributes, 'consulate.client_id')).toBe('agent-basic');
    expect(valueOf(request!.attributes, 'consulate.grant_type')).toBe('client_credentials');
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['token.authenticate_client', 'token.grant', 'delegation.decide', 'passport.mint', 'token.receipt', 'store.audit.append', 'store.commit']));
    // The SDK was loaded because the variables asked for it.
    expect(served.modules().some((m) => sdkModule.test(m))).toBe(true);
  });

  it('by default (http/protobuf, the OTLP default) spans arrive as protobuf bodies, without a token or secret', async () => {
    const before = received.length;
    const served = await serve({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'consulate-protobuf', OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const { accessToken } = await tokenRequest(served.url);
    served.child.kill('SIGTERM');
    const { code, stderr } = await served.exited;
    expect(code, stderr).toBe(0);
    const posts = received.slice(before);
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.headers['content-type']).toBe('application/x-protobuf');
      for (const value of [accessToken, secrets['agent-basic']]) expect(post.body).not.toContain(value);
    }
    // Strings are stored as raw UTF-8 in protobuf: the service name and span names are in the bytes.
    const all = posts.map((p) => p.body).join('');
    for (const text of ['consulate-protobuf', 'POST /token', 'token.authenticate_client', 'passport.mint']) expect(all).toContain(text);
    expect(served.modules().some((m) => m.includes('/exporter-trace-otlp-proto/'))).toBe(true);
  });

  it('no OTEL_* variable: no OpenTelemetry SDK module is loaded, nothing is exported, and requests are served', async () => {
    const before = received.length;
    const served = await serve({});
    await tokenRequest(served.url);
    served.child.kill('SIGTERM');
    const { code, stderr } = await served.exited;
    expect(code, stderr).toBe(0);
    const modules = served.modules();
    // The hook saw the server's own modules and the API (a no-op without a provider)…
    expect(modules.some((m) => m.endsWith('/dist/grants/dispatch.js'))).toBe(true);
    expect(modules.some((m) => m.includes('/node_modules/@opentelemetry/api/'))).toBe(true);
    // …and nothing of the SDK.
    expect(modules.filter((m) => sdkModule.test(m))).toEqual([]);
    expect(received.length).toBe(before);
  });
});
