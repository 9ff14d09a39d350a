// Prometheus metrics and the status document: a started Consulate is driven by real clients (client
// credentials through openid-client, wrong secrets, introspection, a federated sign-in through a
// stand-in upstream, CIBA approvals, a rate limit, a refused config reload); each scrape is parsed
// and the counters must have moved by exactly what was driven. Label values are bounded (route
// patterns, `other`), and no secret, token or subject appears anywhere in a scrape. Then the
// protection (metrics.token, 401s), the separate listener (metrics.listen), and PostgreSQL's pool.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, api, envName, personTokens, type Person } from './support/delegation.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The text exposition format, as far as these tests need it: one sample per line, comments skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

type Scrape = { text: string; samples: Sample[]; value(name: string, labels?: Record<string, string>): number };

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
function scrapeOf(text: string): Scrape {
  const samples = parseMetrics(text);
  return {
    text,
    samples,
    value: (name, labels = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0),
  };
}

async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return scrapeOf(await response.text());
}

/** What moved between two scrapes. */
const moved = (before: Scrape, after: Scrape) => (name: string, labels?: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const cibaSecret = 'ciba-app-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const upstreamSecret = 'upstream-client-secret-0123456789';
const fixtureMain = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');

/** Real time plus an offset the test moves (approvals expire). */
function movableClock() {
  let offset = 0;
  return { now: () => Math.floor(Date.now() / 1000) + offset, advance: (seconds: number) => void (offset += seconds) };
}

describe('metrics on the main listener', () => {
  const clock = movableClock();
  let server: TestConsulate;
  let okta: Upstream;
  let alice: Person;
  /** Everything secret the tests send or receive: none may appear in a scrape. */
  const secretsSeen: string[] = [...Object.values(secrets), cibaSecret, upstreamSecret];

  beforeAll(async () => {
    const port = await freePort();
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: upstreamSecret, redirect_uris: [`http://127.0.0.1:${port}/callback/okta`] }] });
    // The fixture's generous limits, but 3 failed client authentications per client_id.
    const main = fixtureMain.replace(/client_auth_failures: \{ max: \d+ \}/, 'client_auth_failures: { max: 3 }');
    expect(main).not.toBe(fixtureMain);
    server = await startConsulate({
      port,
      now: clock.now,
      env: { UPSTREAM_SECRET: upstreamSecret, [envName('ciba-app')]: hashSecret(cibaSecret) },
      files: {
        'consulate.yaml': `${main}\nciba:\n  default_expiry_seconds: 120\n  interval_seconds: 1\n`,
        'upstreams/okta.yaml': ['id: okta', 'kind: okta', 'name: Okta', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:UPSTREAM_SECRET}', 'scopes: [openid, profile, email]'].join('\n'),
        'clients/ciba-app.yaml': ['client_id: ciba-app', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: \${env:${envName('ciba-app')}}`, `grant_types: [${cibaGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
      },
    });
    alice = await addPerson(server, 'alice', { email: 'alice@example.test', email_verified: true, name: 'Alice' });
  });
  afterAll(async () => {
    await server?.stop();
    await okta?.close();
  });

  const assertNothingSecret = (scraped: Scrape) => {
    for (const secret of secretsSeen) expect(scraped.text).not.toContain(secret);
    expect(scraped.text).not.toContain(alice.sub);
  };

  it('token requests by grant, outcome and error; Passports by grant and resource; introspections by result; /token by route', async () => {
    const before = await scrape(server.url);
    const agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const issued = [];
    for (let i = 0; i < 2; i++) issued.push(await client.clientCredentialsGrant(agent, { scope: 'read-data', resource: api }));
    for (const tokens of issued) secretsSeen.push(tokens.access_token);
    const wrong = await postForm(server, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('agent-basic', 'not-the-secret-0123456789abcdefghij') });
    expect(wrong.status).toBe(401);
    // A grant type nobody serves: counted as `other`, its value never becomes a label.
    const madeUp = 'urn:example:grant-type:made-up-by-a-caller';
    expect((await postForm(server, '/token', { grant_type: madeUp }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) })).body).toMatchObject({ error: 'unsupported_grant_type' });
    const introspect = (token: string) => postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) });
    expect((await introspect(issued[0]!.access_token)).body).toMatchObject({ active: true });
    expect((await introspect('not.a.passport')).body).toEqual({ active: false });
    expect((await postForm(server, '/introspect', { token: 'x' }, { authorization: basicAuth('demo-api', 'wrong-secret-0123456789abcdefghijklmnop') })).status).toBe(401);

    const after = await scrape(server.url);
    const delta = moved(before, after);
    expect(delta('consulate_token_requests_total', { grant_type: 'client_credentials', outcome: 'success', error: 'none' })).toBe(2);
    expect(delta('consulate_token_requests_total', { grant_type: 'client_credentials', outcome: 'error', error: 'invalid_client' })).toBe(1);
    expect(delta('consulate_token_requests_total', { grant_type: 'other', outcome: 'error', error: 'unsupported_grant_type' })).toBe(1);
    expect(delta('consulate_token_requests_total')).toBe(4);
    expect(delta('consulate_passports_issued_total', { grant_type: 'client_credentials', resource: api })).toBe(2);
    expect(delta('consulate_passports_issued_total')).toBe(2);
    expect(delta('consulate_introspections_total', { result: 'active' })).toBe(1);
    expect(delta('consulate_introspections_total', { result: 'inactive' })).toBe(1);
    expect(delta('consulate_introspections_total', { result: 'error' })).toBe(1);
    // The HTTP histogram: by route pattern, method and status class (discovery, 2 issued, 2 refused).
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/token', method: 'POST', status: '2xx' })).toBe(2);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/token', method: 'POST', status: '4xx' })).toBe(2);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/introspect', method: 'POST' })).toBe(3);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/.well-known/openid-configuration', method: 'GET', status: '2xx' })).toBe(1);
    // The two Passports' receipts were written through the store: its calls and group commits are timed.
    expect(delta('consulate_db_call_duration_seconds_count', { call: 'audit.append' })).toBe(2);
    expect(delta('consulate_db_commit_batch_size_count')).toBeGreaterThan(0);
    expect(after.text).not.toContain(madeUp);
    // Process metrics under their conventional names.
    expect(after.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(after.samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    assertNothingSecret(after);
  });

  it('a sign-in through the upstream counts by upstream and outcome, with its latency; a forged callback path is `other`', async () => {
    const before = await scrape(server.url);
    const jar = cookieJar();
    const start = await jar.fetch(`${server.url}/login/okta?return_to=/session`);
    expect(start.status).toBe(303);
    const callback = await okta.login(new URL(start.headers.get('location') as string), okta.accounts[0]!.username);
    const done = await jar.fetch(callback);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/session');
    // The same callback again: its state is spent.
    expect((await jar.fetch(callback)).status).toBe(400);
    const forged = 'attacker-made-upstream-name-1234';
    expect((await jar.fetch(`${server.url}/callback/${forged}?state=x&code=y`)).status).toBe(400);

    const after = await scrape(server.url);
    const delta = moved(before, after);
    expect(delta('consulate_upstream_logins_total', { upstream: 'okta', outcome: 'success' })).toBe(1);
    expect(delta('consulate_upstream_logins_total', { upstream: 'okta', outcome: 'rejected' })).toBe(1);
    expect(delta('consulate_upstream_logins_total', { upstream: 'other', outcome: 'rejected' })).toBe(1);
    expect(delta('consulate_upstream_logins_total')).toBe(3);
    expect(delta('consulate_upstream_request_duration_seconds_count', { upstream: 'okta', call: 'authorize' })).toBe(1);
    expect(delta('consulate_upstream_request_duration_seconds_count', { upstream: 'okta', call: 'token' })).toBe(1);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/callback/:upstream', method: 'GET' })).toBe(3);
    expect(after.text).not.toContain(forged);
    expect(after.text).not.toContain('/callback/okta');
    for (const cookie of jar.cookies.values()) secretsSeen.push(cookie);
    secretsSeen.push(new URL(callback).searchParams.get('code') as string);
    assertNothingSecret(after);
  });

  it('approvals: requested, pending (read at scrape), decided, and expired once', async () => {
    const before = await scrape(server.url);
    const ciba = (loginHint: string) => postForm(server, '/bc-authorize', { scope: 'openid read-data', login_hint: loginHint }, { authorization: basicAuth('ciba-app', cibaSecret) });
    const first = await ciba('alice@example.test');
    expect(first.status).toBe(200);
    secretsSeen.push(first.body.auth_req_id as string);
    const open = await server.deps.store.approvals.listOpen(server.deps.now());
    expect(open).toHaveLength(1);
    const pendingOne = await scrape(server.url);
    expect(pendingOne.value('consulate_approvals_pending', { kind: 'ciba' })).toBe(1);

    // Alice approves through the approvals API with her own Passport.
    const passport = (await personTokens(server, alice, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    secretsSeen.push(passport);
    const decision = await fetch(`${server.url}/approvals/api/${open[0]!.id}`, { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(decision.status).toBe(200);
    const second = await ciba('alice@example.test');
    expect(second.status).toBe(200);
    secretsSeen.push(second.body.auth_req_id as string);

    const beforeExpiry = await scrape(server.url);
    expect(beforeExpiry.value('consulate_approvals_pending', { kind: 'ciba' })).toBe(1);
    clock.advance(121);
    const expired = await scrape(server.url);
    const again = await scrape(server.url);
    const delta = moved(before, again);
    expect(delta('consulate_approvals_requested_total', { kind: 'ciba' })).toBe(2);
    expect(delta('consulate_approvals_decided_total', { kind: 'ciba', decision: 'approved' })).toBe(1);
    expect(delta('consulate_approvals_decided_total', { kind: 'ciba', decision: 'denied' })).toBe(0);
    expect(moved(beforeExpiry, expired)('consulate_approvals_expired_total', { kind: 'ciba' })).toBe(1);
    expect(moved(expired, again)('consulate_approvals_expired_total', { kind: 'ciba' })).toBe(0);
    expect(again.value('consulate_approvals_pending', { kind: 'ciba' })).toBe(0);
    assertNothingSecret(again);
  });

  it('a rate limit reached counts once per key, and every 429 by route', async () => {
    const before = await scrape(server.url);
    const wrong = () => postForm(server, '/token', { grant_type: 'client_credentials', client_id: 'agent-post', client_secret: 'wrong' });
    for (let i = 0; i < 3; i++) expect((await wrong()).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await wrong()).status).toBe(429);
    const after = await scrape(server.url);
    const delta = moved(before, after);
    expect(delta('consulate_rate_limit_reached_total', { limit: 'client_auth_failures', key_kind: 'client' })).toBe(1);
    expect(delta('consulate_rate_limit_reached_total')).toBe(1);
    expect(delta('consulate_http_rate_limited_total', { route: '/token' })).toBe(2);
    expect(delta('consulate_token_requests_total', { grant_type: 'client_credentials', outcome: 'error', error: 'temporarily_unavailable' })).toBe(2);
  });

  // The first requests under /admin of this server (the admin API and page load then: app.ts).
  it('admin requests, the first ones included, count by the route that answered them', async () => {
    const issued = await postForm(server, '/token', { grant_type: 'client_credentials', resource: 'https://admin.test.example', scope: 'agents:read' }, { authorization: basicAuth('operator', 'operator-secret-0123456789abcdefghijklmnopqrstuvwxyz') });
    expect(issued.status).toBe(200);
    const passport = issued.body.access_token as string;
    secretsSeen.push(passport);
    const before = await scrape(server.url);
    const agents = await fetch(`${server.url}/admin/v1/agents`, { headers: { authorization: `Bearer ${passport}` } });
    expect(agents.status).toBe(200);
    expect(agents.headers.get('content-type')).toMatch(/^application\/json/);
    expect(agents.headers.get('x-request-id')).toMatch(/\S/);
    expect(agents.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await agents.json()) as unknown).toMatchObject({ agents: expect.any(Array) });
    const unknownAgent = await fetch(`${server.url}/admin/v1/agents/no-such-agent`, { headers: { authorization: `Bearer ${passport}` } });
    expect(unknownAgent.status).toBe(404);
    expect(unknownAgent.headers.get('content-type')).toBe('application/problem+json');
    // Under /admin but served by nobody: the same not-found answer as any unknown path.
    const [nowhere, elsewhere] = await Promise.all([fetch(`${server.url}/admin/no-such-page`), fetch(`${server.url}/no-such-page`)]);
    expect([nowhere.status, await nowhere.json()]).toEqual([elsewhere.status, await elsewhere.json()]);
    const after = await scrape(server.url);
    const delta = moved(before, after);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/admin/v1/agents', method: 'GET', status: '2xx' })).toBe(1);
    expect(delta('consulate_http_request_duration_seconds_count', { route: '/admin/v1/agents/:id', method: 'GET', status: '4xx' })).toBe(1);
    expect(after.samples.filter((s) => s.name === 'consulate_http_request_duration_seconds_count' && s.labels.route?.startsWith('/admin') && s.labels.route.endsWith('*'))).toEqual([]);
    assertNothingSecret(after);
  });

  it('a refused reload: counted, the config marked stale in the metrics and in /status with file:line:col; a good one clears it', async () => {
    const before = await scrape(server.url);
    const status = async () => {
      const response = await fetch(`${server.url}/status`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      return (await response.json()) as { status: string; config: { loaded_at: number; stale: boolean; last_reload?: { at: number; outcome: string; trigger: string; problems?: number; errors?: string[] } } };
    };
    expect((await status()).status).toBe('ok');
    const broken = join(server.configDir, 'clients/broken.yaml');
    writeFileSync(broken, 'client_id: broken\ntoken_endpoint_auth_method: client_secret_basic\nsecret_hash: ${env:BROKEN_SECRET_HASH}\ngrant_types: [teleport]\n');
    expect(await server.reload('test')).toBe(false);

    const refused = await scrape(server.url);
    expect(moved(before, refused)('consulate_config_reloads_total', { outcome: 'refused' })).toBe(1);
    expect(refused.value('consulate_config_stale')).toBe(1);
    const attemptedAt = refused.value('consulate_config_last_reload_attempt_timestamp_seconds');
    expect(attemptedAt).toBeGreaterThan(0);
    expect(refused.value('consulate_config_last_reload_success_timestamp_seconds')).toBeLessThanOrEqual(attemptedAt);
    const document = await status();
    expect(document).toMatchObject({ status: 'config_stale', config: { stale: true, last_reload: { trigger: 'test', outcome: 'refused', at: attemptedAt } } });
    const errors = document.config.last_reload?.errors ?? [];
    expect(errors.length).toBe(document.config.last_reload?.problems);
    expect(errors.some((line) => /clients\/broken\.yaml:4:15 {2}grant_types\[0\] {2}Invalid option/.test(line))).toBe(true);
    expect(errors.some((line) => /BROKEN_SECRET_HASH/.test(line))).toBe(true);

    rmSync(broken);
    expect(await server.reload('test')).toBe(true);
    const applied = await scrape(server.url);
    expect(moved(refused, applied)('consulate_config_reloads_total', { outcome: 'applied' })).toBe(1);
    expect(applied.value('consulate_config_stale')).toBe(0);
    expect(applied.value('consulate_config_last_reload_success_timestamp_seconds')).toBe(applied.value('consulate_config_last_reload_attempt_timestamp_seconds'));
    expect(await status()).toMatchObject({ status: 'ok', config: { stale: false, last_reload: { outcome: 'applied' } } });
    // The reload kept the registry: counts from before it are still there.
    expect(applied.value('consulate_token_requests_total')).toBeGreaterThanOrEqual(refused.value('consulate_token_requests_total'));
    assertNothingSecret(applied);
  });
});

describe('metrics.token and metrics.listen', () => {
  const token = 'metrics-token-0123456789abcdefghijklmnopqrstuvwxyz';
  let server: TestConsulate;
  let metricsUrl: string;
  const main = `${fixtureMain}\nmetrics:\n  listen: 127.0.0.1:0\n`;

  beforeAll(async () => {
    server = await startConsulate({ env: { CONSULATE_METRICS_TOKEN: token }, files: { 'consulate.yaml': main } });
    metricsUrl = server.metricsUrl as string;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(server.url);
  });
  afterAll(async () => server?.stop());

  it('the main listener answers 404 for /metrics and /status; the metrics listener serves only them', async () => {
    for (const path of ['/metrics', '/status']) {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    }
    expect((await fetch(`${metricsUrl}/token`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${metricsUrl}/.well-known/openid-configuration`)).status).toBe(404);
    // Traffic on the main listener shows on the other one.
    expect((await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) })).status).toBe(200);
    const scraped = await scrape(metricsUrl, token);
    expect(scraped.value('consulate_token_requests_total', { grant_type: 'client_credentials', outcome: 'success' })).toBe(1);
    expect(scraped.text).not.toContain(token);
  });

  it('without the token, or with a wrong one: 401 with WWW-Authenticate: Bearer; compared whole, not by prefix', async () => {
    for (const path of ['/metrics', '/status']) {
      const none = await fetch(`${metricsUrl}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="consulate"');
      expect(await none.json()).toMatchObject({ error: 'invalid_token' });
      for (const wrong of ['wrong-token', token.slice(0, -1), `${token}x`, token.toUpperCase()]) {
        const refused = await fetch(`${metricsUrl}${path}`, { headers: { authorization: `Bearer ${wrong}` } });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="consulate", error="invalid_token"');
      }
      expect((await fetch(`${metricsUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } })).status).toBe(401);
      expect((await fetch(`${metricsUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    const status = await (await fetch(`${metricsUrl}/status`, { headers: { authorization: `Bearer ${token}` } })).json();
    expect(status).toMatchObject({ status: 'ok', issuer: server.issuer, config: { stale: false } });
  });

  it('metrics.enabled: false turns /metrics off at the next reload; /status stays', async () => {
    writeFileSync(join(server.configDir, 'consulate.yaml'), `${main}  enabled: false\n`);
    expect(await server.reload('test')).toBe(true);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect((await fetch(`${metricsUrl}/metrics`, auth)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/status`, auth)).status).toBe(200);
  });

  it('a metrics.listen address that is taken: the start fails with one line naming the listener', async () => {
    const taken = new URL(metricsUrl).port;
    const dir = mkdtempSync(join(tmpdir(), 'consulate-test-'));
    try {
      await expect(startConsulate({ dir, files: { 'consulate.yaml': `${fixtureMain}\nmetrics:\n  listen: 127.0.0.1:${taken}\n` } })).rejects.toThrow(
        `The metrics listener (metrics.listen) cannot listen on 127.0.0.1:${taken}: the address is already in use`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipPostgres())('metrics on PostgreSQL', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ env: { CONSULATE_DATABASE_URL: await freshPostgresUrl() } });
  });
  afterAll(async () => server?.stop());

  it('the pool (read at scrape), group commits and approval counts', async () => {
    expect((await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) })).status).toBe(200);
    const scraped = await scrape(server.url);
    expect(scraped.value('consulate_db_pool_connections', { state: 'open' })).toBeGreaterThanOrEqual(1);
    expect(scraped.value('consulate_db_pool_connections', { state: 'idle' })).toBeLessThanOrEqual(scraped.value('consulate_db_pool_connections', { state: 'open' }));
    expect(scraped.samples.some((s) => s.name === 'consulate_db_pool_waiting_queries')).toBe(true);
    expect(scraped.value('consulate_db_commit_batch_size_count')).toBeGreaterThan(0);
    expect(scraped.value('consulate_approvals_pending', { kind: 'ciba' })).toBe(0);
    expect(scraped.value('consulate_passports_issued_total', { grant_type: 'client_credentials', resource: api })).toBe(1);
  });
});
