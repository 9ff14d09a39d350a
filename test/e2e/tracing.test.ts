// OpenTelemetry traces of a real server, read with the SDK's in-memory exporter: the test process
// registers a tracer provider (as an embedding application would) before Consulate starts. A token
// exchange by openid-client sending a W3C traceparent yields the span tree server span → dispatch
// steps → policy, mint and store spans; a federated sign-in's upstream calls carry a traceparent
// the stand-in upstream receives; an approval webhook carries one too. No span ever holds a secret,
// a token, a subject or an e-mail address.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { discover, postForm } from './support/clients.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import { startUpstream, type ObservedRequest, type Upstream } from './support/upstreams.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const upstreamSecret = 'upstream-client-secret-0123456789abcdef';
const hookSecret = 'webhook-secret-0123456789abcdefghijklmnop';
const cibaSecret = 'ciba-app-secret-0123456789abcdefghijklmnopqrstu';

/** A caller's trace context: W3C traceparent with fresh ids. */
function callerTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** openid-client sending `traceparent` with each request, as an instrumented client does. */
function withTraceparent(config: client.Configuration, traceparent: string): client.Configuration {
  config[client.customFetch] = (url, options) => fetch(url, { ...options, headers: { ...options.headers, traceparent } });
  return config;
}

const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
const named = (spans: ReadableSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  expect(found, `span ${name} among ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0] as ReadableSpan;
};
/** The chain of span names from `span` up to the root of what was exported. */
function ancestry(spans: ReadableSpan[], span: ReadableSpan): string[] {
  const chain = [span.name];
  for (let at = span; at.parentSpanContext; ) {
    const parent = spans.find((s) => s.spanContext().spanId === at.parentSpanContext?.spanId);
    if (!parent) break;
    chain.push(parent.name);
    at = parent;
  }
  return chain;
}

async function until<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Everything an exported span can carry, as text: names, attributes, events, links, resource. */
const spanText = (span: ReadableSpan) =>
  JSON.stringify([span.name, span.attributes, span.events.map((e) => [e.name, e.attributes]), span.links.map((l) => l.attributes), span.resource.attributes, span.status]);

const basic = (id: string, secret: string) => Buffer.from(`${id}:${secret}`).toString('base64');

/** A person's Passport exchanged by `assistant` with openid-client sending a fresh traceparent; the spans of that trace. */
async function tracedExchange(server: TestConsulate, person: Person, sensitive: Set<string>) {
  const tokens = await personTokens(server, person);
  sensitive.add(tokens.access_token).add(tokens.id_token);
  const caller = callerTrace();
  const config = withTraceparent(await discover(server, 'assistant', client.ClientSecretBasic(agentSecret('assistant'))), caller.traceparent);
  const result = await client.genericGrantRequest(config, exchangeGrant, { subject_token: tokens.access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' });
  sensitive.add(result.access_token);
  const spans = await until(() => {
    const found = spansOf(caller.traceId);
    return found.some((s) => s.kind === SpanKind.SERVER) ? found : undefined;
  }, 'the token request\'s spans');
  return { caller, spans };
}

const assistantYaml = agentYaml('assistant', 'act_for: { groups: [eng] }\nsubject_token_clients: [web-app]\nmax_chain: 3');
const fixtureMain = () => {
  const text = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');
  expect(text).not.toMatch(/^(approvals|database_url):/m);
  return text;
};

/** A loopback webhook receiver that records each POST and answers 204. */
async function startReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

describe('OpenTelemetry traces', () => {
  let server: TestConsulate;
  let upstream: Upstream;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ada: Person;
  let base: string;
  const observed: ObservedRequest[] = [];
  /** Every secret, token, code, cookie, subject and e-mail a test handled: none may reach a span. */
  const sensitive = new Set<string>([...Object.values(secrets), agentSecret('assistant'), upstreamSecret, hookSecret, cibaSecret, basic('assistant', agentSecret('assistant')), basic('ciba-app', cibaSecret)]);
  /** Where this test's spans start in the exporter's list. */
  let mark = 0;
  beforeEach(() => {
    mark = exporter.getFinishedSpans().length;
  });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    receiver = await startReceiver();
    upstream = await startUpstream({ kind: 'oidc', clients: [{ client_id: 'consulate', client_secret: upstreamSecret, redirect_uris: [`${base}/callback/idp`] }] });
    upstream.observeRequests((request) => observed.push(request));
    server = await startConsulate({
      port,
      env: { [envName('assistant')]: hashSecret(agentSecret('assistant')), CIBA_APP_SECRET_HASH: hashSecret(cibaSecret), UPSTREAM_SECRET: upstreamSecret, HOOK_SECRET: hookSecret },
      files: {
        'consulate.yaml': `${fixtureMain()}\napprovals:\n  webhook:\n    url: ${receiver.url}\n    secret: \${env:HOOK_SECRET}\n    timeout_ms: 2000\n`,
        'clients/assistant.yaml': assistantYaml,
        'clients/ciba-app.yaml': ['client_id: ciba-app', 'token_endpoint_auth_method: client_secret_basic', 'secret_hash: ${env:CIBA_APP_SECRET_HASH}', `grant_types: [${cibaGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]', ''].join('\n'),
        'upstreams/idp.yaml': ['id: idp', 'kind: oidc', 'name: Test IdP', `issuer: ${upstream.issuer}`, 'client_id: consulate', 'client_secret: ${env:UPSTREAM_SECRET}', ''].join('\n'),
      },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    for (const value of [ada.sub, 'u-ada', 'ada@example.test']) sensitive.add(value);
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await receiver?.close();
  });

  /** No span exported since this test began contains anything in `sensitive`. */
  function expectNothingSensitive() {
    const spans = exporter.getFinishedSpans().slice(mark);
    expect(spans.length).toBeGreaterThan(0);
    for (const span of spans) {
      const text = spanText(span);
      for (const value of sensitive) expect(text.includes(value), `span ${span.name} holds ${value.slice(0, 12)}…`).toBe(false);
    }
  }

  it('a token exchange: the server span continues the caller\'s trace, each dispatch step is its child, policy, mint and store spans below', async () => {
    const { caller, spans } = await tracedExchange(server, ada, sensitive);
    const request = named(spans, 'POST /token');
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/token',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'consulate.grant_type': exchangeGrant,
      'consulate.client_id': 'assistant',
      'consulate.outcome': 'issued',
    });

    // Steps 2–6 of the dispatch, in order, each a child of the request.
    const steps = childrenOf(spans, request);
    expect(steps.map((s) => s.name)).toEqual(['token.authenticate_client', 'token.check_client', 'token.verify_dpop', 'token.grant', 'token.receipt']);
    for (const step of steps) expect(step.status.code).not.toBe(SpanStatusCode.ERROR);

    // The grant: the delegation policy, the policies of config/policies/, the mint, the new delegation
    // written with its first lineage link (one store call, one transaction).
    const grant = named(spans, 'token.grant');
    const inGrant = spans.filter((s) => ancestry(spans, s).includes('token.grant')).map((s) => s.name);
    expect(inGrant).toEqual(expect.arrayContaining(['delegation.decide', 'policy.evaluate', 'passport.mint', 'store.lineage.record']));
    expect(inGrant).not.toContain('store.delegations.create');
    expect(named(spans, 'delegation.decide').attributes).toEqual({ 'consulate.outcome': 'allow' });
    expect(named(spans, 'policy.evaluate').attributes).toEqual({ 'consulate.outcome': 'allow' });
    expect(named(spans, 'passport.mint').attributes).toEqual({ 'consulate.resource': api, 'consulate.client_id': 'assistant' });
    expect(ancestry(spans, named(spans, 'passport.mint'))).toContain(grant.name);

    // The receipt: a store call, and the group commit that wrote it.
    const receipt = named(spans, 'token.receipt');
    const append = named(spans, 'store.audit.append');
    expect(append.parentSpanContext?.spanId).toBe(receipt.spanContext().spanId);
    expect(append.kind).toBe(SpanKind.CLIENT);
    expect(append.attributes).toEqual({ 'db.system.name': 'sqlite', 'db.operation.name': 'audit.append' });
    const commits = spans.filter((s) => s.name === 'store.commit' && s.parentSpanContext?.spanId === append.spanContext().spanId);
    expect(commits).toHaveLength(1);
    expect(commits[0]?.attributes['db.operation.batch.size']).toBeGreaterThanOrEqual(1);
    expectNothingSensitive();
  });

  it('a refused request: the failing step and the server span name the error code; a malformed traceparent starts a new trace', async () => {
    const wrongSecret = `wrong-${agentSecret('assistant')}`;
    sensitive.add(wrongSecret).add(basic('assistant', wrongSecret));
    const before = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().spanId));
    const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: `Basic ${basic('assistant', wrongSecret)}`, traceparent: 'not-a-traceparent' });
    expect(response.status).toBe(401);
    const fresh = await until(() => {
      const found = exporter.getFinishedSpans().filter((s) => !before.has(s.spanContext().spanId));
      return found.some((s) => s.kind === SpanKind.SERVER) ? found : undefined;
    }, 'the refused request\'s spans');
    const request = named(fresh, 'POST /token');
    expect(request.parentSpanContext).toBeUndefined();
    expect(request.attributes).toMatchObject({ 'http.response.status_code': 401, 'consulate.error_code': 'invalid_client', 'consulate.grant_type': 'client_credentials' });
    expect(request.attributes['consulate.client_id']).toBeUndefined();
    // A 4xx is the caller's error, not the server's; the step that refused is marked.
    expect(request.status.code).not.toBe(SpanStatusCode.ERROR);
    const auth = named(fresh, 'token.authenticate_client');
    expect(auth.status.code).toBe(SpanStatusCode.ERROR);
    expect(auth.attributes['error.type']).toBe('invalid_client');
    expectNothingSensitive();
  });

  it('an admin API request, the first (it loads the admin API): the server span is named after the route that answered', async () => {
    const caller = callerTrace();
    const response = await fetch(`${server.url}/admin/v1/openapi.json`, { headers: { traceparent: caller.traceparent } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const spans = await until(() => {
      const found = spansOf(caller.traceId);
      return found.some((s) => s.kind === SpanKind.SERVER) ? found : undefined;
    }, 'the admin request\'s span');
    const request = named(spans, 'GET /admin/v1/openapi.json');
    expect(request.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({ 'http.route': '/admin/v1/openapi.json', 'http.response.status_code': 200 });
  });

  it('a federated sign-in: the upstream token, discovery and JWKS calls are client spans whose traceparent the upstream receives', async () => {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/idp?return_to=/session`);
    expect(start.status).toBe(303);
    const callback = await upstream.login(new URL(start.headers.get('location') as string), upstream.accounts[0]!.username);
    const code = new URL(callback).searchParams.get('code');
    expect(code).toBeTruthy();
    sensitive.add(code as string);
    const caller = callerTrace();
    observed.length = 0;
    const done = await jar.fetch(callback, { headers: { traceparent: caller.traceparent } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/session');
    for (const value of jar.cookies.values()) sensitive.add(value);
    sensitive.add(upstream.accounts[0]!.username);

    const spans = await until(() => {
      const found = spansOf(caller.traceId);
      return found.some((s) => s.kind === SpanKind.SERVER) ? found : undefined;
    }, 'the callback\'s spans');
    const request = named(spans, 'GET /callback/:upstream');
    expect(request.parentSpanContext?.spanId).toBe(caller.spanId);

    // The code exchange at the upstream's token endpoint: our client span's id is the parent the upstream was sent.
    const tokenCall = observed.find((r) => r.method === 'POST' && r.path === '/token');
    expect(tokenCall, 'the upstream saw the token request').toBeDefined();
    const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(tokenCall?.headers.traceparent));
    expect(sent?.[1]).toBe(caller.traceId);
    const tokenSpan = named(spans, 'upstream.token');
    expect(sent?.[2]).toBe(tokenSpan.spanContext().spanId);
    expect(tokenSpan.kind).toBe(SpanKind.CLIENT);
    expect(tokenSpan.attributes).toMatchObject({ 'consulate.upstream': 'idp', 'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': '127.0.0.1', 'server.port': Number(new URL(upstream.url).port) });
    expect(ancestry(spans, tokenSpan).at(-1)).toBe('GET /callback/:upstream');

    // The ID token's signature is checked against the upstream's keys: discovery, then the JWKS, both traced and propagated.
    const jwksCall = observed.find((r) => r.method === 'GET' && r.path === '/jwks');
    const jwksSpan = named(spans, 'upstream.jwks');
    expect(String(jwksCall?.headers.traceparent)).toBe(`00-${caller.traceId}-${jwksSpan.spanContext().spanId}-01`);
    expect(named(spans, 'upstream.discovery').attributes['consulate.upstream']).toBe('idp');
    expectNothingSensitive();
  });

  it('an approval webhook carries the traceparent of the request that opened the approval, from its own client span', async () => {
    const caller = callerTrace();
    const config = withTraceparent(await discover(server, 'ciba-app', client.ClientSecretBasic(cibaSecret)), caller.traceparent);
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'ada@example.test' });
    sensitive.add(started.auth_req_id);
    const hook = await until(() => receiver.received.find((r) => r.body.includes('"approval.requested"')), 'the approval.requested notification');
    sensitive.add(String(hook.headers['consulate-signature']));

    const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(hook.headers.traceparent));
    expect(sent?.[1]).toBe(caller.traceId);
    const spans = await until(() => {
      const found = spansOf(caller.traceId);
      return found.some((s) => s.name === 'webhook.approval') ? found : undefined;
    }, 'the webhook span');
    const webhook = named(spans, 'webhook.approval');
    expect(webhook.spanContext().spanId).toBe(sent?.[2]);
    expect(webhook.kind).toBe(SpanKind.CLIENT);
    expect(webhook.attributes).toMatchObject({ 'consulate.event': 'approval.requested', 'http.request.method': 'POST', 'http.response.status_code': 204, 'server.address': '127.0.0.1' });
    // Never the webhook's URL (it may carry its own secret), its body or its signature.
    expect(Object.keys(webhook.attributes).filter((k) => k.startsWith('url.'))).toEqual([]);
    expect(ancestry(spans, webhook).at(-1)).toBe('POST /bc-authorize');
    expectNothingSensitive();
  });
});

describe.skipIf(skipPostgres())('OpenTelemetry traces on PostgreSQL', () => {
  let server: TestConsulate;
  let ada: Person;
  const sensitive = new Set<string>([...Object.values(secrets), agentSecret('assistant'), basic('assistant', agentSecret('assistant'))]);

  beforeAll(async () => {
    const url = await freshPostgresUrl();
    sensitive.add(url).add(new URL(url).password);
    server = await startConsulate({
      env: { [envName('assistant')]: hashSecret(agentSecret('assistant')) },
      files: { 'consulate.yaml': `${fixtureMain()}\ndatabase_url: ${url}\n`, 'clients/assistant.yaml': assistantYaml },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    for (const value of [ada.sub, 'u-ada', 'ada@example.test']) sensitive.add(value);
  });
  afterAll(async () => server?.stop());

  it('store calls, the audit group commit and the transactions are spans of the request, with db.system.name postgresql', async () => {
    const mark = exporter.getFinishedSpans().length;
    const { spans } = await tracedExchange(server, ada, sensitive);
    const append = named(spans, 'store.audit.append');
    expect(append.attributes).toEqual({ 'db.system.name': 'postgresql', 'db.operation.name': 'audit.append' });
    expect(ancestry(spans, append)).toEqual(['store.audit.append', 'token.receipt', 'POST /token']);
    expect(spans.filter((s) => s.name === 'store.commit' && s.parentSpanContext?.spanId === append.spanContext().spanId)).toHaveLength(1);
    // Lineage is written in a transaction (row and advisory locks): its span is the store call's child.
    const record = named(spans, 'store.lineage.record');
    const transactions = spans.filter((s) => s.name === 'store.transaction' && s.parentSpanContext?.spanId === record.spanContext().spanId);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]?.attributes).toEqual({ 'db.system.name': 'postgresql' });
    expect(transactions[0]?.kind).toBe(SpanKind.CLIENT);
    for (const span of exporter.getFinishedSpans().slice(mark)) {
      const text = spanText(span);
      for (const value of sensitive) expect(text.includes(value), `span ${span.name} holds a secret`).toBe(false);
    }
  });
});
