// The agent SDK (src/sdk/agent-client.ts) against a scripted authorization server on loopback: a
// real HTTP server that answers discovery and plays /token, /bc-authorize and /device_authorization
// with answers each test scripts (sequences no real server would produce on demand: slow_down after
// slow_down, use_dpop_nonce twice). A fixed clock and an injected sleep make polling instant and let
// the tests read the waits the SDK asked for. DPoP proofs are verified with jose.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, exportJWK, jwtVerify, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsulateOAuthError, createAgentClient, type AgentClientOptions, type Pending } from '../../../src/sdk/index.ts';

const api = 'https://api.demo.example';
const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const t0 = 1_700_000_000;

type Answer = { status?: number; body: Record<string, unknown>; headers?: Record<string, string>; /** Answers only after this long (a slow or hung server). */ delayMs?: number };
type Seen = { path: string; form: URLSearchParams; headers: IncomingHttpHeaders };
type Proof = { htm: unknown; htu: unknown; nonce: unknown; jti: unknown; jkt: string; ath: unknown };

/** The scripted authorization server: each POST takes the next answer scripted for its path. */
async function startScripted() {
  const script = new Map<string, Answer[]>();
  const seen: Seen[] = [];
  let issuer = '';
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', issuer).pathname;
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
      };
      if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
        send(200, {
          issuer,
          token_endpoint: `${issuer}/token`,
          backchannel_authentication_endpoint: `${issuer}/bc-authorize`,
          device_authorization_endpoint: `${issuer}/device_authorization`,
          jwks_uri: `${issuer}/jwks`,
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
          dpop_signing_alg_values_supported: ['ES256'],
          backchannel_token_delivery_modes_supported: ['poll'],
        });
        return;
      }
      seen.push({ path, form: new URLSearchParams(raw), headers: req.headers });
      const next = script.get(path)?.shift();
      if (!next) send(500, { error: 'server_error', error_description: `nothing scripted for ${path}` });
      else if (next.delayMs) setTimeout(() => send(next.status ?? 200, next.body, next.headers), next.delayMs);
      else send(next.status ?? 200, next.body, next.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    seen,
    /** Appends answers for a path. */
    answer(path: string, ...answers: Answer[]) {
      script.set(path, [...(script.get(path) ?? []), ...answers]);
    },
    /** Requests to a path so far. */
    to: (path: string) => seen.filter((s) => s.path === path),
    left: (path: string) => script.get(path)?.length ?? 0,
    reset() {
      script.clear();
      seen.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const passport = (access_token: string, extra: Record<string, unknown> = {}): Answer => ({ body: { access_token, token_type: 'Bearer', expires_in: 300, ...extra } });
const oauthError = (error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Answer => ({ status: 400, body: { error, ...extra }, headers });

/** A clock the test owns and a sleep that returns at once, moving it and recording each wait (ms). */
function fakeTime() {
  let now = t0;
  const sleeps: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    signal?.throwIfAborted();
    sleeps.push(ms);
    now += ms / 1000;
  };
  return {
    clock: () => now,
    sleep,
    sleeps,
    advance: (seconds: number) => {
      now += seconds;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

async function oauthRejection(promise: Promise<unknown>): Promise<ConsulateOAuthError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ConsulateOAuthError);
  return error as ConsulateOAuthError;
}

/** Verifies a request's DPoP proof (RFC 9449 §4.3) and returns what the tests compare. */
async function proofOf(seen: Seen): Promise<Proof> {
  const header = seen.headers.dpop;
  expect(typeof header).toBe('string');
  const { payload, protectedHeader } = await jwtVerify(header as string, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'], maxTokenAge: '5m' });
  expect(decodeProtectedHeader(header as string).jwk).not.toHaveProperty('d');
  return { htm: payload.htm, htu: payload.htu, nonce: payload.nonce, jti: payload.jti, ath: payload.ath, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256') };
}

describe('agent client against a scripted server', () => {
  let as: Awaited<ReturnType<typeof startScripted>>;
  beforeAll(async () => {
    as = await startScripted();
  });
  afterAll(async () => as?.close());
  afterEach(() => {
    // Every scripted answer was used: a test that scripts more than the SDK asked for says so.
    const left = ['/token', '/bc-authorize', '/device_authorization'].map((path) => [path, as.left(path)]);
    as.reset();
    expect(left.filter(([, n]) => n !== 0), 'answers left unused').toEqual([]);
  });

  const agent = (extra: Partial<AgentClientOptions> = {}) => createAgentClient({ issuer: as.issuer, clientId: 'agent', clientSecret: 'agentsecret123', allowInsecureLoopback: true, ...extra });

  describe('Passport cache', () => {
    it('returns the cached Passport for the same target without a request; another resource, scope, details or subject makes one', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock });
      as.answer('/token', passport('p1'));
      const first = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
      expect(first).toMatchObject({ access_token: 'p1', token_type: 'bearer', expires_in: 300 });
      expect(as.to('/token')).toHaveLength(1);
      expect(Object.fromEntries(as.to('/token')[0]!.form)).toEqual({ grant_type: 'client_credentials', resource: api, scope: 'read-data' });
      expect(as.to('/token')[0]!.headers.authorization).toBe(`Basic ${Buffer.from('agent:agentsecret123').toString('base64')}`);

      // Same target (scope as a set, in another order): the same Passport, no request.
      expect(await sdk.clientCredentials({ resource: api, scope: 'read-data' })).toEqual(first);
      time.advance(100);
      expect((await sdk.clientCredentials({ resource: [api], scope: 'read-data' })).access_token).toBe('p1');
      expect(as.to('/token')).toHaveLength(1);

      as.answer('/token', passport('p2'), passport('p3'), passport('p4'), passport('p5'), passport('p6'));
      expect((await sdk.clientCredentials({ resource: 'https://reports.example', scope: 'read-data' })).access_token).toBe('p2');
      expect((await sdk.clientCredentials({ resource: api, scope: 'read-data write-data' })).access_token).toBe('p3');
      const details = [{ type: 'tool', tool: 'search' }];
      expect((await sdk.clientCredentials({ resource: api, scope: 'read-data', authorizationDetails: details })).access_token).toBe('p4');
      expect(JSON.parse(as.to('/token')[3]!.form.get('authorization_details')!)).toEqual(details);
      expect((await sdk.exchange('subject-a', { resource: api, scope: 'read-data' })).access_token).toBe('p5');
      expect((await sdk.exchange('subject-b', { resource: api, scope: 'read-data' })).access_token).toBe('p6');
      expect(as.to('/token').map((s) => s.form.get('subject_token'))).toEqual([null, null, null, null, 'subject-a', 'subject-b']);
      expect(as.to('/token')[4]!.form.get('grant_type')).toBe(exchangeGrant);
      // Each of them is cached under its own key now.
      expect((await sdk.exchange('subject-a', { resource: api, scope: 'read-data' })).access_token).toBe('p5');
      expect((await sdk.clientCredentials({ resource: api, scope: 'write-data read-data' })).access_token).toBe('p3');
      expect((await sdk.clientCredentials({ resource: api, scope: 'read-data', authorizationDetails: [{ type: 'tool', tool: 'search' }] })).access_token).toBe('p4');
      expect(as.to('/token')).toHaveLength(6);
      // Discovery happened once for the instance.
      expect(as.seen.filter((s) => s.path !== '/token')).toEqual([]);
    });

    it('parallel calls for the same agent Passport share one request; a failed one is not kept', async () => {
      const sdk = agent();
      as.answer('/token', passport('shared'));
      const all = await Promise.all([1, 2, 3, 4].map(() => sdk.clientCredentials({ resource: api, scope: 'read-data' })));
      expect(all.map((t) => t.access_token)).toEqual(['shared', 'shared', 'shared', 'shared']);
      expect(as.to('/token')).toHaveLength(1);
      // A shared failure reaches every caller once, and the next call asks again.
      as.answer('/token', oauthError('invalid_scope'), passport('after'));
      const failed = await Promise.allSettled([1, 2].map(() => sdk.clientCredentials({ resource: api, scope: 'write-data' })));
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(as.to('/token')).toHaveLength(2);
      expect((await sdk.clientCredentials({ resource: api, scope: 'write-data' })).access_token).toBe('after');
    });

    it('refetches shortly before exp: at expires_in minus the skew (30 s by default, or cacheSkewSeconds)', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock });
      as.answer('/token', passport('p1'), passport('p2'));
      await sdk.clientCredentials({ resource: api });
      time.advance(269);
      expect((await sdk.clientCredentials({ resource: api })).access_token).toBe('p1');
      time.advance(1);
      expect((await sdk.clientCredentials({ resource: api })).access_token).toBe('p2');
      expect(as.to('/token')).toHaveLength(2);

      const wide = fakeTime();
      const skewed = agent({ clock: wide.clock, cacheSkewSeconds: 120 });
      as.answer('/token', passport('q1'), passport('q2'));
      await skewed.clientCredentials({ resource: api });
      wide.advance(179);
      expect((await skewed.clientCredentials({ resource: api })).access_token).toBe('q1');
      wide.advance(1);
      expect((await skewed.clientCredentials({ resource: api })).access_token).toBe('q2');
      expect(as.to('/token')).toHaveLength(4);
    });

    it('does not cache an error, a Passport without expires_in, or anything with cache: false', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock });
      as.answer('/token', oauthError('invalid_scope', { error_description: 'not for you' }), passport('p1'));
      const error = await oauthRejection(sdk.clientCredentials({ resource: api, scope: 'read-data' }));
      expect(error).toMatchObject({ code: 'invalid_scope', description: 'not for you', status: 400, body: { error: 'invalid_scope', error_description: 'not for you' } });
      expect((await sdk.clientCredentials({ resource: api, scope: 'read-data' })).access_token).toBe('p1');
      expect((await sdk.clientCredentials({ resource: api, scope: 'read-data' })).access_token).toBe('p1');
      expect(as.to('/token')).toHaveLength(2);

      as.answer('/token', { body: { access_token: 'forever', token_type: 'Bearer' } }, { body: { access_token: 'forever-2', token_type: 'Bearer' } });
      expect((await sdk.clientCredentials({ resource: 'https://reports.example' })).access_token).toBe('forever');
      expect((await sdk.clientCredentials({ resource: 'https://reports.example' })).access_token).toBe('forever-2');

      const uncached = agent({ clock: time.clock, cache: false });
      as.answer('/token', passport('u1'), passport('u2'));
      expect((await uncached.clientCredentials({ resource: api })).access_token).toBe('u1');
      expect((await uncached.clientCredentials({ resource: api })).access_token).toBe('u2');
    });
  });

  describe('polling', () => {
    it('CIBA: adds openid to the scope, waits the server’s interval, adds 5 s per slow_down for every later poll, returns the Passport', async () => {
      const time = fakeTime();
      const pendings: Pending[] = [];
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-1', expires_in: 120, interval: 2 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('slow_down'), oauthError('authorization_pending'), oauthError('slow_down'), oauthError('authorization_pending'), passport('for-ada'));
      const tokens = await agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'ada@example.test', bindingMessage: 'Order 4711', scope: 'read-data', resource: api, requestedExpiry: 120, onPending: (p) => pendings.push(p) });
      expect(tokens.access_token).toBe('for-ada');
      expect(pendings).toEqual([{ auth_req_id: 'req-1', interval: 2, expires_in: 120 }]);
      expect(Object.fromEntries(as.to('/bc-authorize')[0]!.form)).toEqual({ client_id: 'agent', login_hint: 'ada@example.test', binding_message: 'Order 4711', requested_expiry: '120', scope: 'openid read-data', resource: api });
      expect(as.to('/token').map((s) => [s.form.get('grant_type'), s.form.get('auth_req_id')])).toEqual(Array(6).fill([cibaGrant, 'req-1']));
      // 2 s, then 2 + 5 after the first slow_down, 2 + 10 after the second.
      expect(time.sleeps).toEqual([2000, 2000, 7000, 7000, 12000, 12000]);
    });

    it('takes a slow_down’s own interval when it is longer, and a longer Retry-After once', async () => {
      const time = fakeTime();
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-2', expires_in: 300, interval: 5 } });
      as.answer('/token', oauthError('slow_down', { interval: 30 }), oauthError('authorization_pending', {}, { 'retry-after': '45' }), oauthError('authorization_pending'), passport('ok'));
      await agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'ada', scope: 'openid' });
      expect(time.sleeps).toEqual([5000, 30000, 45000, 30000]);
    });

    it('uses 5 s when the server names no interval', async () => {
      const time = fakeTime();
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-3', expires_in: 60 } });
      as.answer('/token', oauthError('authorization_pending'), passport('ok'));
      await agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'ada', scope: 'openid' });
      expect(time.sleeps).toEqual([5000, 5000]);
    });

    it('stops at expires_in (by the injected clock) with expired_token, never polling past it', async () => {
      const time = fakeTime();
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-4', expires_in: 22, interval: 5 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('authorization_pending'), oauthError('slow_down'));
      const error = await oauthRejection(agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'ada', scope: 'openid' }));
      expect(error).toMatchObject({ code: 'expired_token', status: undefined });
      // Polls at 5, 10, 15 s; the next would be at 25 s, after the request's end at 22 s: it waits until then and stops.
      expect(time.sleeps).toEqual([5000, 5000, 5000, 7000]);
      expect(as.to('/token')).toHaveLength(3);
      expect(time.clock()).toBe(t0 + 22);
    });

    it('the server’s expired_token and access_denied end polling at once as typed errors', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock, sleep: time.sleep });
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-5', expires_in: 60, interval: 1 } }, { body: { auth_req_id: 'req-6', expires_in: 60, interval: 1 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('access_denied', { error_description: 'the person said no' }), oauthError('expired_token'));
      expect(await oauthRejection(sdk.ciba({ loginHint: 'ada', scope: 'openid' }))).toMatchObject({ code: 'access_denied', description: 'the person said no', status: 400 });
      expect(await oauthRejection(sdk.ciba({ loginHint: 'ada', scope: 'openid' }))).toMatchObject({ code: 'expired_token', status: 400 });
      expect(as.to('/token')).toHaveLength(3);
      expect(time.sleeps).toEqual([1000, 1000, 1000]);
    });

    it('a bc-authorize refusal is a typed error and nothing is polled', async () => {
      const time = fakeTime();
      as.answer('/bc-authorize', oauthError('unknown_user_id'));
      expect(await oauthRejection(agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'nobody', scope: 'openid' }))).toMatchObject({ code: 'unknown_user_id', status: 400 });
      expect(as.to('/token')).toHaveLength(0);
      expect(time.sleeps).toEqual([]);
    });

    it('device code: announces the user code before polling, then polls the device_code grant with slow_down', async () => {
      const time = fakeTime();
      const announced: unknown[] = [];
      as.answer('/device_authorization', { body: { device_code: 'dev-1', user_code: 'BCDF-GHJK', verification_uri: `${as.issuer}/device`, verification_uri_complete: `${as.issuer}/device?user_code=BCDF-GHJK`, expires_in: 600, interval: 3 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('slow_down'), passport('device-passport'));
      const tokens = await agent({ clock: time.clock, sleep: time.sleep }).deviceCode({
        scope: 'read-data',
        resource: api,
        onUserCode: (code) => announced.push({ ...code, pollsSoFar: as.to('/token').length }),
      });
      expect(tokens.access_token).toBe('device-passport');
      expect(announced).toEqual([{ user_code: 'BCDF-GHJK', verification_uri: `${as.issuer}/device`, verification_uri_complete: `${as.issuer}/device?user_code=BCDF-GHJK`, expires_in: 600, pollsSoFar: 0 }]);
      expect(Object.fromEntries(as.to('/device_authorization')[0]!.form)).toEqual({ client_id: 'agent', scope: 'read-data', resource: api });
      expect(as.to('/token').map((s) => [s.form.get('grant_type'), s.form.get('device_code')])).toEqual(Array(3).fill([deviceGrant, 'dev-1']));
      expect(time.sleeps).toEqual([3000, 3000, 8000]);
    });

    it('device code: expired by the clock, and a denial', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock, sleep: time.sleep });
      const started = (code: string, expires_in: number): Answer => ({ body: { device_code: code, user_code: 'BCDF-GHJK', verification_uri: `${as.issuer}/device`, expires_in, interval: 5 } });
      as.answer('/device_authorization', started('dev-2', 10), started('dev-3', 600));
      as.answer('/token', oauthError('authorization_pending'), oauthError('authorization_pending'), oauthError('access_denied'));
      expect(await oauthRejection(sdk.deviceCode({ scope: 'read-data', onUserCode: () => undefined }))).toMatchObject({ code: 'expired_token', status: undefined });
      expect(as.to('/token')).toHaveLength(1);
      expect(await oauthRejection(sdk.deviceCode({ scope: 'read-data', onUserCode: () => undefined }))).toMatchObject({ code: 'access_denied', status: 400 });
      expect(time.sleeps).toEqual([5000, 5000, 5000, 5000]);
    });

    it('a paused exchange resumes through the CIBA grant with its interval and slow_down; the approved Passport is not reused for a second exchange', async () => {
      const time = fakeTime();
      const pendings: Pending[] = [];
      const sdk = agent({ clock: time.clock, sleep: time.sleep });
      as.answer('/token', oauthError('authorization_pending', { auth_req_id: 'paused-1', interval: 4, expires_in: 60 }), oauthError('slow_down'), oauthError('authorization_pending'), passport('approved'));
      const tokens = await sdk.exchange('subject', { resource: api, scope: 'write-data', onPending: (p) => pendings.push(p) });
      expect(tokens.access_token).toBe('approved');
      expect(pendings).toEqual([{ auth_req_id: 'paused-1', interval: 4, expires_in: 60 }]);
      expect(as.to('/token').map((s) => s.form.get('grant_type'))).toEqual([exchangeGrant, cibaGrant, cibaGrant, cibaGrant]);
      expect(as.to('/token')[1]!.form.get('auth_req_id')).toBe('paused-1');
      expect(time.sleeps).toEqual([4000, 9000, 9000]);
      // An approval covers the one action asked for: the same exchange again asks again.
      as.answer('/token', passport('again'));
      expect((await sdk.exchange('subject', { resource: api, scope: 'write-data' })).access_token).toBe('again');
      expect(as.to('/token')).toHaveLength(5);
      expect(as.to('/token')[4]!.form.get('grant_type')).toBe(exchangeGrant);
    });

    it('an AbortSignal stops polling promptly with its reason (the real timer, a 60 s interval)', async () => {
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-7', expires_in: 600, interval: 60 } });
      const controller = new AbortController();
      const started = Date.now();
      const polling = agent().ciba({ loginHint: 'ada', scope: 'openid', signal: controller.signal, onPending: () => setTimeout(() => controller.abort(), 50) });
      const error = await rejection(polling);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(as.to('/token')).toHaveLength(0);

      // Aborted before it starts: nothing is sent at all.
      const reason = new Error('user gave up');
      const before = as.seen.length;
      expect(await rejection(agent().ciba({ loginHint: 'ada', scope: 'openid', signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(as.seen.length).toBe(before);
    });

    it('an abort between polls ends it with the reason after the polls already made', async () => {
      const time = fakeTime();
      const controller = new AbortController();
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-8', expires_in: 600, interval: 5 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('authorization_pending'));
      const sleep = async (ms: number, signal?: AbortSignal) => {
        if (time.sleeps.length === 2) controller.abort(new Error('stop'));
        await time.sleep(ms, signal);
      };
      const error = await rejection(agent({ clock: time.clock, sleep }).ciba({ loginHint: 'ada', scope: 'openid', signal: controller.signal }));
      expect(error).toEqual(new Error('stop'));
      expect(as.to('/token')).toHaveLength(2);
    });
  });

  describe('failures that are not OAuth answers', () => {
    it('a request with no answer in time is openid-client’s OAUTH_TIMEOUT, never an OAuth error such as expired_token', async () => {
      const time = fakeTime();
      const sdk = agent({ clock: time.clock, sleep: time.sleep, timeoutSeconds: 0.2 });
      as.answer('/token', { ...passport('too-late'), delayMs: 1000 });
      const direct = await rejection(sdk.clientCredentials({ resource: api }));
      expect(direct).not.toBeInstanceOf(ConsulateOAuthError);
      expect(direct).toMatchObject({ code: 'OAUTH_TIMEOUT' });

      as.answer('/bc-authorize', { body: { auth_req_id: 'req-10', expires_in: 600, interval: 5 } });
      as.answer('/token', { ...oauthError('authorization_pending'), delayMs: 1000 });
      const polling = await rejection(sdk.ciba({ loginHint: 'ada', scope: 'openid' }));
      expect(polling).not.toBeInstanceOf(ConsulateOAuthError);
      expect(polling).toMatchObject({ code: 'OAUTH_TIMEOUT' });
      expect(() => agent({ timeoutSeconds: 0 })).toThrow(TypeError);
    });

    it('an abort while a poll is in flight ends it at once, even if a Passport would follow', async () => {
      const time = fakeTime();
      const controller = new AbortController();
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-11', expires_in: 600, interval: 5 } });
      as.answer('/token', { ...passport('never-seen'), delayMs: 1500 });
      const started = Date.now();
      setTimeout(() => controller.abort(), 150);
      const error = await rejection(agent({ clock: time.clock, sleep: time.sleep }).ciba({ loginHint: 'ada', scope: 'openid', signal: controller.signal }));
      expect((error as DOMException).name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(as.to('/token')).toHaveLength(1);
    });
  });

  describe('DPoP', () => {
    it('retries exactly once with the server’s nonce, then keeps sending it; one key for every proof', async () => {
      const sdk = agent({ dpop: true, cache: false });
      as.answer('/token', oauthError('use_dpop_nonce', { error_description: 'use the nonce' }, { 'dpop-nonce': 'nonce-1' }), passport('bound', { token_type: 'DPoP' }), passport('bound-2', { token_type: 'DPoP' }));
      const tokens = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
      expect(tokens).toMatchObject({ access_token: 'bound', token_type: 'dpop' });
      expect(as.to('/token')).toHaveLength(2);
      await sdk.clientCredentials({ resource: api, scope: 'read-data' });
      const proofs = await Promise.all(as.to('/token').map(proofOf));
      const jkt = await calculateJwkThumbprint(await exportJWK((await sdk.dpopKeyPair())!.publicKey), 'sha256');
      expect(proofs).toEqual([
        { htm: 'POST', htu: `${as.issuer}/token`, nonce: undefined, jti: expect.any(String), ath: undefined, jkt },
        { htm: 'POST', htu: `${as.issuer}/token`, nonce: 'nonce-1', jti: expect.any(String), ath: undefined, jkt },
        { htm: 'POST', htu: `${as.issuer}/token`, nonce: 'nonce-1', jti: expect.any(String), ath: undefined, jkt },
      ]);
      expect(new Set(proofs.map((p) => p.jti)).size).toBe(3);
      // The retried request is the same request.
      expect(Object.fromEntries(as.to('/token')[1]!.form)).toEqual(Object.fromEntries(as.to('/token')[0]!.form));
    });

    it('a second use_dpop_nonce in a row is a typed error, not a loop', async () => {
      const sdk = agent({ dpop: true, cache: false });
      as.answer('/token', oauthError('use_dpop_nonce', {}, { 'dpop-nonce': 'n-1' }), oauthError('use_dpop_nonce', {}, { 'dpop-nonce': 'n-2' }));
      const error = await oauthRejection(sdk.clientCredentials({ resource: api }));
      expect(error).toMatchObject({ code: 'use_dpop_nonce', status: 400 });
      expect(as.to('/token')).toHaveLength(2);
      expect((await Promise.all(as.to('/token').map(proofOf))).map((p) => p.nonce)).toEqual([undefined, 'n-1']);
      // The next call starts with the newest nonce the server handed out.
      as.answer('/token', passport('fine', { token_type: 'DPoP' }));
      expect((await sdk.clientCredentials({ resource: api })).access_token).toBe('fine');
      expect((await proofOf(as.to('/token')[2]!)).nonce).toBe('n-2');
    });

    it('while polling: a nonce demand is retried at once (no extra wait), proofs use the same key', async () => {
      const time = fakeTime();
      const sdk = agent({ dpop: true, clock: time.clock, sleep: time.sleep });
      as.answer('/bc-authorize', { body: { auth_req_id: 'req-9', expires_in: 60, interval: 2 } });
      as.answer('/token', oauthError('authorization_pending'), oauthError('use_dpop_nonce', {}, { 'dpop-nonce': 'poll-nonce' }), passport('bound', { token_type: 'DPoP' }));
      expect((await sdk.ciba({ loginHint: 'ada', scope: 'openid' })).token_type).toBe('dpop');
      expect(time.sleeps).toEqual([2000, 2000]);
      const proofs = await Promise.all(as.to('/token').map(proofOf));
      expect(proofs.map((p) => p.nonce)).toEqual([undefined, undefined, 'poll-nonce']);
      expect(new Set(proofs.map((p) => p.jkt)).size).toBe(1);
      expect(proofs.every((p) => p.htm === 'POST' && p.htu === `${as.issuer}/token`)).toBe(true);
      // The backchannel request itself carries no proof (nothing is issued there).
      expect(as.to('/bc-authorize')[0]!.headers.dpop).toBeUndefined();
    });
  });
});
