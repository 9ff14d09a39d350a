// CIBA (OpenID CIBA Core 1.0) end to end with openid-client: a client asks at /bc-authorize for a
// person found by e-mail, sub or an ID token; the person decides through the approvals JSON API
// with their own Passport (the browser inbox: ciba-inbox.test.ts); the client polls the CIBA
// grant: authorization_pending, then the Passport naming the approval, the ID token and a refresh
// token. Denial, expiry, slow_down, another client's, a guessed or a used auth_req_id, a restart in
// between; signed request objects (four algorithms, and every way one can be wrong, including
// another registered client's key); bad requests with their §13 errors and nothing stored; ping
// mode with a loopback client receiving the notification; discovery and the config cross-checks.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { makeConfigDir, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { addPerson, api, personTokens, type Person } from './support/delegation.ts';
import { clientKey, type ClientKey } from './support/keys.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const secret = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
const envName = (id: string) => `${id.toUpperCase().replace(/-/g, '_')}_SECRET_HASH`;

const secretClientYaml = (id: string, grants: string, extra = '') =>
  [
    `client_id: ${id}`,
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: \${env:${envName(id)}}`,
    `grant_types: [${grants}]`,
    'resources:',
    `  ${api}:`,
    '    scopes: [read-data, write-data]',
    '    authorization_details_types: [tool]',
    extra,
  ].join('\n');

const mainYaml = [
  'listen:',
  '  host: 127.0.0.1',
  '  port: 0',
  'passports:',
  '  ttl_seconds: 300',
  'keys:',
  '  reload_seconds: 0.05',
  'log:',
  '  level: info',
  'ciba:',
  '  default_expiry_seconds: 120',
  '  max_expiry_seconds: 600',
  '  interval_seconds: 1',
  '',
].join('\n');

/** Real time plus an offset the test moves; `freeze` stops it (for polls within one interval). */
function movableClock() {
  let offset = 0;
  let frozen: number | undefined;
  const real = () => Math.floor(Date.now() / 1000) + offset;
  return {
    now: () => frozen ?? real(),
    advance(seconds: number) {
      if (frozen !== undefined) frozen += seconds;
      else offset += seconds;
    },
    freeze() {
      frozen = real();
    },
    resume() {
      frozen = undefined;
    },
  };
}

type Ping = { headers: IncomingHttpHeaders; body: string };

/** The ping client's notification endpoint: records every POST and answers 204. */
async function startPingReceiver(): Promise<{ url: string; pings: Ping[]; next: () => Promise<Ping>; close: () => Promise<void> }> {
  const pings: Ping[] = [];
  const waiting: ((ping: Ping) => void)[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const ping = { headers: req.headers, body };
      pings.push(ping);
      waiting.shift()?.(ping);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ciba-callback`,
    pings,
    next: () =>
      new Promise<Ping>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ping within 5 s')), 5000);
        waiting.push((ping) => {
          clearTimeout(timer);
          resolve(ping);
        });
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('CIBA', () => {
  const clock = movableClock();
  const env: NodeJS.ProcessEnv = {};
  for (const id of ['ciba-app', 'ciba-other', 'ciba-ping', 'not-ciba']) env[envName(id)] = hashSecret(secret(id));
  let server: TestConsulate;
  let receiver: Awaited<ReturnType<typeof startPingReceiver>>;
  let keys: { es: ClientKey; rs: ClientKey; ed: ClientKey; ps: ClientKey; stranger: ClientKey; second: ClientKey };
  let alice: Person;
  let bob: Person;
  let app: client.Configuration;
  let other: client.Configuration;
  let signer: client.Configuration;
  let secondSigner: client.Configuration;
  let pinger: client.Configuration;

  const openIds = async () => new Set((await server.deps.store.approvals.listOpen(server.deps.now())).map((r) => r.id));
  /** Starts a request and finds the approval it opened. */
  const initiate = async (config: client.Configuration, parameters: Record<string, string>) => {
    const before = await openIds();
    const response = await client.initiateBackchannelAuthentication(config, parameters);
    const opened = [...(await openIds())].filter((id) => !before.has(id));
    expect(opened).toHaveLength(1);
    return { response, approvalId: opened[0] as string };
  };
  /** The person decides through the approvals JSON API, with their own Passport (aud = issuer) from web-app. */
  const approve = async (approvalId: string, person: Person, decision: 'approve' | 'deny' = 'approve') => {
    const passport = (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const response = await fetch(new URL(`/approvals/api/${approvalId}`, server.url), { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision }) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Approved (or denied) at once: the person is the only approver. */
  const decided = async (approvalId: string, person: Person, decision: 'approve' | 'deny' = 'approve') => {
    const answer = await approve(approvalId, person, decision);
    expect(answer).toEqual({ status: 200, body: { approval: approvalId, decision, outcome: decision === 'approve' ? 'approved' : 'denied' } });
  };
  const rawPoll = (clientId: string, authReqId: string) => postForm(server, '/token', { grant_type: cibaGrant, auth_req_id: authReqId }, { authorization: basicAuth(clientId, secret(clientId)) });

  beforeAll(async () => {
    receiver = await startPingReceiver();
    const ps = await generateKeyPair('PS256', { extractable: true });
    keys = {
      es: await clientKey('ES256', 'es-key'),
      rs: await clientKey('RS256', 'rs-key'),
      ed: await clientKey('EdDSA', 'ed-key'),
      ps: { ...ps, kid: 'ps-key', jwk: { ...(await exportJWK(ps.publicKey)), kid: 'ps-key', alg: 'PS256', use: 'sig' } },
      stranger: await clientKey('ES256', 'es-key'),
      second: await clientKey('ES256', 'second-key'),
    };
    const signed = [
      'client_id: ciba-signed',
      'token_endpoint_auth_method: private_key_jwt',
      `jwks: ${JSON.stringify({ keys: [keys.es.jwk, keys.rs.jwk, keys.ps.jwk, keys.ed.jwk] })}`,
      `grant_types: [${cibaGrant}]`,
      'resources:',
      `  ${api}:`,
      '    scopes: [read-data]',
      '',
    ].join('\n');
    // A second CIBA client signing its requests, with its own registered key.
    const secondSigned = signed.replace('client_id: ciba-signed', 'client_id: ciba-signed-2').replace(/^jwks: .*$/m, `jwks: ${JSON.stringify({ keys: [keys.second.jwk] })}`);
    server = await startConsulate({
      now: clock.now,
      env,
      files: {
        'consulate.yaml': mainYaml,
        'clients/ciba-app.yaml': secretClientYaml('ciba-app', `${cibaGrant}, refresh_token`),
        'clients/ciba-other.yaml': secretClientYaml('ciba-other', cibaGrant),
        'clients/ciba-ping.yaml': secretClientYaml('ciba-ping', cibaGrant, `backchannel_token_delivery_mode: ping\nbackchannel_client_notification_endpoint: ${receiver.url}\n`),
        'clients/not-ciba.yaml': secretClientYaml('not-ciba', 'client_credentials'),
        'clients/ciba-signed.yaml': signed,
        'clients/ciba-signed-2.yaml': secondSigned,
        'policies/ciba.yaml': ['rules:', '  - name: no-ciba-writes', '    when: client.client_id == "ciba-app" && "write-data" in scopes', '    then: { deny: { reason: "No writes through CIBA." } }', 'default: allow', ''].join('\n'),
      },
    });
    alice = await addPerson(server, 'alice', { email: 'Alice@Example.test', email_verified: true, name: 'Alice' });
    bob = await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: false });
    app = await discover(server, 'ciba-app', client.ClientSecretBasic(secret('ciba-app')));
    other = await discover(server, 'ciba-other', client.ClientSecretBasic(secret('ciba-other')));
    pinger = await discover(server, 'ciba-ping', client.ClientSecretBasic(secret('ciba-ping')));
    signer = await discover(server, 'ciba-signed', client.PrivateKeyJwt({ key: keys.es.privateKey, kid: keys.es.kid }));
    secondSigner = await discover(server, 'ciba-signed-2', client.PrivateKeyJwt({ key: keys.second.privateKey, kid: keys.second.kid }));
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('announces the backchannel endpoint, poll and ping, the signing algorithms and no user_code', async () => {
    const metadata = app.serverMetadata();
    expect(metadata.backchannel_authentication_endpoint).toBe(`${server.issuer}/bc-authorize`);
    expect(metadata.backchannel_token_delivery_modes_supported).toEqual(['poll', 'ping']);
    expect(metadata.backchannel_authentication_request_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256', 'EdDSA']);
    expect(metadata.backchannel_user_code_parameter_supported).toBe(false);
    expect(metadata.grant_types_supported).toContain(cibaGrant);
  });

  it('waits for the person, then issues a Passport naming the approval, an ID token and a refresh token', async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid email read-data', login_hint: 'alice@example.test', binding_message: 'Order 4711' });
    expect(response.auth_req_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.expires_in).toBe(120);
    expect(response.interval).toBe(1);
    const record = await server.deps.store.approvals.find(approvalId);
    expect(record).toMatchObject({ kind: 'ciba', clientId: 'ciba-app', sub: alice.sub, status: 'pending', request: { identityScopes: ['openid', 'email'], resource: api, resourceScopes: ['read-data'], bindingMessage: 'Order 4711' } });
    // Only the hash is stored: the auth_req_id is nowhere in the record.
    expect(JSON.stringify(record)).not.toContain(response.auth_req_id);

    // openid-client polls (authorization_pending) until the person approves.
    const tokens = client.pollBackchannelAuthenticationGrant(app, response);
    for (let i = 0; i < 50 && (await server.deps.store.approvals.find(approvalId))?.lastPolledAt === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    const denials = server.logs.filter((line) => line.error === 'authorization_pending');
    expect(denials.length).toBeGreaterThan(0);
    await decided(approvalId, alice);
    const result = await tokens;

    const passport = decodeJwt(result.access_token);
    expect(passport).toMatchObject({ sub: alice.sub, approval: approvalId, aud: api, client_id: 'ciba-app' });
    expect(result.claims()).toMatchObject({ sub: alice.sub, aud: 'ciba-app', iss: server.issuer, email: 'Alice@Example.test' });
    expect(result.refresh_token).toEqual(expect.any(String));
    expect((await server.deps.store.approvals.find(approvalId))?.status).toBe('issued');

    // Used once: a second poll with the same auth_req_id is refused.
    const again = await rawPoll('ciba-app', response.auth_req_id);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('finds the person by sub and by an ID token of this client; no refresh token for a client without the grant', async () => {
    const first = await initiate(other, { scope: 'openid', login_hint: alice.sub });
    await decided(first.approvalId, alice);
    const tokens = await client.pollBackchannelAuthenticationGrant(other, first.response);
    expect(tokens.refresh_token).toBeUndefined();
    expect(decodeJwt(tokens.access_token).approval).toBe(first.approvalId);

    const second = await initiate(other, { scope: 'openid', id_token_hint: tokens.id_token as string });
    expect((await server.deps.store.approvals.find(second.approvalId))?.sub).toBe(alice.sub);

    // An ID token issued to another client is no hint for this one.
    const webApp = await personTokens(server, alice);
    await expect(client.initiateBackchannelAuthentication(other, { scope: 'openid', id_token_hint: webApp.id_token })).rejects.toMatchObject({ error: 'invalid_request', status: 400 });
  });

  it('answers access_denied once the person denies', async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test' });
    await decided(approvalId, alice, 'deny');
    await expect(client.pollBackchannelAuthenticationGrant(app, response)).rejects.toMatchObject({ error: 'access_denied' });
  });

  it('answers expired_token after requested_expiry, even when approved', async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test', requested_expiry: '30' });
    expect(response.expires_in).toBe(30);
    const pending = await rawPoll('ciba-app', response.auth_req_id);
    expect(pending.body.error).toBe('authorization_pending');
    clock.advance(31);
    try {
      // The person is too late: the API says the request is closed.
      expect(await approve(approvalId, alice)).toEqual({ status: 409, body: { error: 'invalid_request', error_description: 'the request is no longer open' } });
      const expired = await rawPoll('ciba-app', response.auth_req_id);
      expect(expired.status).toBe(400);
      expect(expired.body.error).toBe('expired_token');
    } finally {
      clock.advance(-31);
    }
  });

  it('answers slow_down to polls inside the interval, and the interval grows', async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test' });
    clock.freeze();
    try {
      expect((await rawPoll('ciba-app', response.auth_req_id)).body.error).toBe('authorization_pending');
      const fast = await rawPoll('ciba-app', response.auth_req_id);
      expect(fast.status).toBe(400);
      expect(fast.body.error).toBe('slow_down');
      expect((await server.deps.store.approvals.find(approvalId))?.intervalSeconds).toBe(6);
      // The old interval is no longer enough.
      clock.advance(2);
      expect((await rawPoll('ciba-app', response.auth_req_id)).body.error).toBe('slow_down');
      expect((await server.deps.store.approvals.find(approvalId))?.intervalSeconds).toBe(11);
      clock.advance(11);
      expect((await rawPoll('ciba-app', response.auth_req_id)).body.error).toBe('authorization_pending');
    } finally {
      clock.resume();
    }
  });

  it("refuses another client's auth_req_id with invalid_grant, and it stays the owner's", async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test' });
    await decided(approvalId, alice);
    const stolen = await rawPoll('ciba-other', response.auth_req_id);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    const tokens = await client.pollBackchannelAuthenticationGrant(app, response);
    expect(decodeJwt(tokens.access_token).approval).toBe(approvalId);
  });

  it('refuses a guessed auth_req_id with invalid_grant, while a real one is waiting', async () => {
    const { response } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test' });
    const guessed = randomBytes(32).toString('base64url');
    expect(guessed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const answer = await rawPoll('ciba-app', guessed);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
    expect(answer.body.auth_req_id).toBeUndefined();
    expect(server.logs.filter((line) => line.error === 'invalid_grant').at(-1)?.reason).toBe('unknown_request');
    // The real one is untouched by the guess.
    expect((await rawPoll('ciba-app', response.auth_req_id)).body.error).toBe('authorization_pending');
  });

  describe('signed authentication requests (§7.1.1)', () => {
    const sign = (key: { privateKey: CryptoKey; kid: string }, alg: string, claims: Record<string, unknown> = {}) => {
      const now = clock.now();
      const payload = { iss: 'ciba-signed', aud: server.issuer, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), scope: 'openid read-data', login_hint: 'alice@example.test', binding_message: 'Signed 1', ...claims };
      return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid }).sign(key.privateKey);
    };
    /** Refused with invalid_request, nothing stored, and the log names the check that failed. */
    const refused = async (reason: string, request: string, extra: Record<string, string> = {}) => {
      const before = await openIds();
      const error = await client.initiateBackchannelAuthentication(signer, { request, ...extra }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ error: 'invalid_request', status: 400 });
      expect(await openIds()).toEqual(before);
      const logged = server.logs.filter((line) => line.path === '/bc-authorize' && line.reason !== undefined).at(-1);
      expect(logged?.reason).toBe(reason);
    };

    it.each([
      ['ES256', 'es'],
      ['RS256', 'rs'],
      ['PS256', 'ps'],
      ['EdDSA', 'ed'],
    ] as const)('accepts %s, and only the object’s parameters count', async (alg, name) => {
      const { approvalId } = await initiate(signer, { request: await sign(keys[name], alg, { binding_message: `Signed ${alg}` }) });
      const record = await server.deps.store.approvals.find(approvalId);
      expect(record).toMatchObject({ clientId: 'ciba-signed', sub: alice.sub, request: { bindingMessage: `Signed ${alg}`, resourceScopes: ['read-data'] } });
    });

    it('issues what the signed request asked for', async () => {
      const { response, approvalId } = await initiate(signer, { request: await sign(keys.es, 'ES256') });
      await decided(approvalId, alice);
      const tokens = await client.pollBackchannelAuthenticationGrant(signer, response);
      const passport = decodeJwt(tokens.access_token);
      expect(passport).toMatchObject({ sub: alice.sub, approval: approvalId, aud: api });
      expect(String(passport.scope).split(' ').sort()).toEqual(['openid', 'read-data']);
    });

    it('refuses a wrong aud, a wrong iss, an expired or not yet valid object, and one without jti', async () => {
      await refused('request_object_claim_aud', await sign(keys.es, 'ES256', { aud: 'https://someone-else.example' }));
      await refused('request_object_claim_iss', await sign(keys.es, 'ES256', { iss: 'ciba-app' }));
      const now = clock.now();
      await refused('request_object_expired', await sign(keys.es, 'ES256', { iat: now - 400, nbf: now - 400, exp: now - 100 }));
      await refused('request_object_claim_nbf', await sign(keys.es, 'ES256', { nbf: now + 600, exp: now + 900 }));
      await refused('request_object_too_long_lived', await sign(keys.es, 'ES256', { exp: now + 86400 }));
      await refused('request_object_claim_jti', await sign(keys.es, 'ES256', { jti: undefined }));
    });

    it("refuses an object signed with another registered client's key", async () => {
      // The second client's key is registered (for ciba-signed-2), and it works there.
      const own = await sign(keys.second, 'ES256', { iss: 'ciba-signed-2' });
      const { approvalId } = await initiate(secondSigner, { request: own });
      expect((await server.deps.store.approvals.find(approvalId))?.clientId).toBe('ciba-signed-2');
      // ciba-signed presenting an object that claims to be its own, signed with ciba-signed-2's key
      // (its kid, and relabelled with ciba-signed's kid): no key of ciba-signed verifies it.
      await refused('request_object_ERR_JWKS_NO_MATCHING_KEY', await sign(keys.second, 'ES256'));
      await refused('request_object_ERR_JWS_SIGNATURE_VERIFICATION_FAILED', await sign({ privateKey: keys.second.privateKey, kid: keys.es.kid }, 'ES256'));
      // ciba-signed-2's own valid object, presented by ciba-signed.
      await refused('request_object_ERR_JWKS_NO_MATCHING_KEY', await sign(keys.second, 'ES256', { iss: 'ciba-signed-2' }));
    });

    it('refuses a replayed jti', async () => {
      const object = await sign(keys.es, 'ES256');
      await initiate(signer, { request: object });
      await refused('request_object_replayed', object);
    });

    it('refuses alg none, an unregistered key, a symmetric algorithm and parameters beside the object', async () => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const now = clock.now();
      const claims = { iss: 'ciba-signed', aud: server.issuer, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), scope: 'openid', login_hint: 'alice@example.test' };
      await refused('request_object_alg', `${encode({ alg: 'none' })}.${encode(claims)}.`);
      await refused('request_object_ERR_JWS_SIGNATURE_VERIFICATION_FAILED', await sign(keys.stranger, 'ES256'));
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a-shared-secret-that-proves-nothing'));
      await refused('request_object_alg', hs);
      await refused('params_beside_request', await sign(keys.es, 'ES256'), { binding_message: 'outside' });
    });
  });

  describe('bad requests: the CIBA error, nothing stored', () => {
    const refusedWith = async (config: client.Configuration, parameters: Record<string, string>, error: string) => {
      const before = await openIds();
      await expect(client.initiateBackchannelAuthentication(config, parameters)).rejects.toMatchObject({ error, status: 400 });
      expect(await openIds()).toEqual(before);
    };

    it('unknown_user_id for nobody, for an unverified e-mail and for an unknown sub — alike', async () => {
      const answers: unknown[] = [];
      for (const login_hint of ['nobody@example.test', 'bob@example.test', 'person-nobody']) {
        const response = await postForm(server, '/bc-authorize', { scope: 'openid', login_hint }, { authorization: basicAuth('ciba-app', secret('ciba-app')) });
        expect(response.status).toBe(400);
        answers.push(response.body);
      }
      expect(answers[0]).toMatchObject({ error: 'unknown_user_id' });
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
      expect(bob.sub).toBe('person-bob');
      await refusedWith(app, { scope: 'openid', login_hint: 'nobody@example.test' }, 'unknown_user_id');
    });

    it('invalid_request for two hints or none', async () => {
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', id_token_hint: 'x.y.z' }, 'invalid_request');
      await refusedWith(app, { scope: 'openid' }, 'invalid_request');
    });

    it('invalid_scope without openid; invalid_request without scope', async () => {
      await refusedWith(app, { scope: 'read-data', login_hint: 'alice@example.test' }, 'invalid_scope');
      await refusedWith(app, { login_hint: 'alice@example.test' }, 'invalid_request');
    });

    it('invalid_binding_message when too long or not printable', async () => {
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', binding_message: 'x'.repeat(129) }, 'invalid_binding_message');
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', binding_message: 'pay\u202Eevil' }, 'invalid_binding_message');
    });

    it('invalid_request for requested_expiry beyond the maximum or not a positive integer', async () => {
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', requested_expiry: '601' }, 'invalid_request');
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', requested_expiry: '-5' }, 'invalid_request');
    });

    it('checks authorization_details and resource as /authorize does', async () => {
      await refusedWith(app, { scope: 'openid', login_hint: 'alice@example.test', authorization_details: JSON.stringify([{ type: 'tool' }]) }, 'invalid_authorization_details');
      await refusedWith(app, { scope: 'openid read-data', login_hint: 'alice@example.test', resource: 'https://reports.example' }, 'invalid_target');
      const { approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test', authorization_details: JSON.stringify([{ type: 'tool', tool: 'search', actions: ['read'] }]) });
      expect((await server.deps.store.approvals.find(approvalId))?.request).toMatchObject({ resource: api, authorizationDetails: [{ type: 'tool', tool: 'search', actions: ['read'] }] });
    });

    it('401 invalid_client without client authentication; unauthorized_client without the CIBA grant', async () => {
      const anonymous = await postForm(server, '/bc-authorize', { client_id: 'ciba-app', scope: 'openid', login_hint: 'alice@example.test' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_client');
      const wrong = await postForm(server, '/bc-authorize', { scope: 'openid', login_hint: 'alice@example.test' }, { authorization: basicAuth('ciba-app', 'wrong') });
      expect(wrong.status).toBe(401);
      const notCiba = await postForm(server, '/bc-authorize', { scope: 'openid', login_hint: 'alice@example.test' }, { authorization: basicAuth('not-ciba', secret('not-ciba')) });
      expect(notCiba.status).toBe(400);
      expect(notCiba.body.error).toBe('unauthorized_client');
      expect(notCiba.headers.get('cache-control')).toBe('no-store');
    });

    it('access_denied (403) when a policy refuses the request', async () => {
      const before = await openIds();
      await expect(client.initiateBackchannelAuthentication(app, { scope: 'openid write-data', login_hint: 'alice@example.test' })).rejects.toMatchObject({ error: 'access_denied', status: 403 });
      expect(await openIds()).toEqual(before);
    });

    it('a ping client must send a client_notification_token', async () => {
      await refusedWith(pinger, { scope: 'openid', login_hint: 'alice@example.test' }, 'invalid_request');
      await refusedWith(pinger, { scope: 'openid', login_hint: 'alice@example.test', client_notification_token: 'not a bearer token' }, 'invalid_request');
    });

    it('only POST', async () => {
      const response = await fetch(new URL('/bc-authorize', server.url));
      expect(response.status).toBe(405);
    });
  });

  it('ping mode: the client is notified with its bearer token, then fetches the tokens', async () => {
    const token = `notify-${randomUUID()}`;
    const { response, approvalId } = await initiate(pinger, { scope: 'openid', login_hint: 'alice@example.test', client_notification_token: token });
    const ping = receiver.next();
    await decided(approvalId, alice);
    const received = await ping;
    expect(received.headers.authorization).toBe(`Bearer ${token}`);
    expect(received.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(received.body)).toEqual({ auth_req_id: response.auth_req_id });
    const tokens = await rawPoll('ciba-ping', response.auth_req_id);
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token as string)).toMatchObject({ sub: alice.sub, approval: approvalId });

    // A denial is pinged too; the poll then hears access_denied.
    const denied = await initiate(pinger, { scope: 'openid', login_hint: 'alice@example.test', client_notification_token: token });
    const secondPing = receiver.next();
    await decided(denied.approvalId, alice, 'deny');
    expect(JSON.parse((await secondPing).body)).toEqual({ auth_req_id: denied.response.auth_req_id });
    expect((await rawPoll('ciba-ping', denied.response.auth_req_id)).body.error).toBe('access_denied');
    expect(server.rawLogs()).not.toContain(token);
    expect(server.rawLogs()).not.toContain(response.auth_req_id);
  });

  it('a waiting request survives a restart', async () => {
    const { response, approvalId } = await initiate(app, { scope: 'openid', login_hint: 'alice@example.test' });
    await server.stop({ keepData: true });
    server = await startConsulate({ dir: server.dir, reuseConfig: true, env, now: clock.now });
    const restarted = await discover(server, 'ciba-app', client.ClientSecretBasic(secret('ciba-app')));
    expect((await rawPoll('ciba-app', response.auth_req_id)).body.error).toBe('authorization_pending');
    await decided(approvalId, alice);
    const tokens = await client.pollBackchannelAuthenticationGrant(restarted, response);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: alice.sub, approval: approvalId });
  });
});

describe('CIBA config cross-checks', () => {
  it('refuses a ping client without a notification endpoint and a public client with the CIBA grant', async () => {
    const files = {
      'clients/ping-nowhere.yaml': secretClientYaml('ping-nowhere', cibaGrant, 'backchannel_token_delivery_mode: ping\n'),
      'clients/public-ciba.yaml': ['client_id: public-ciba', 'token_endpoint_auth_method: none', `grant_types: [${cibaGrant}]`, ''].join('\n'),
    };
    const { dir } = makeConfigDir(files);
    const error = await startConsulate({ dir, reuseConfig: true, env: { [envName('ping-nowhere')]: hashSecret(secret('ping-nowhere')) } }).then(
      async (started) => {
        await started.stop({ keepData: true });
        return undefined;
      },
      (e: unknown) => e,
    );
    rmSync(dir, { recursive: true, force: true });
    expect(String(error)).toMatch(/needs a notification endpoint/);
    expect(String(error)).toMatch(/public client \(none\) cannot use urn:openid:params:grant-type:ciba/);
  });
});
