// Dynamic client registration (RFC 7591) against a real server: off by default; when on, a client
// registers itself, runs the code flow with PKCE through a stand-in Okta and consent, and gets a
// Passport only for the resource and scopes the operator listed. Refused registrations store
// nothing; the initial access token and the max_clients cap hold; the MCP SDK registers as is.
import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { discoverAuthorizationServerMetadata, exchangeAuthorization, registerClient, startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { drive, redirectParams, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { answerOf, basicAuth, postForm, type Answer } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const api = 'https://api.demo.example';
const reports = 'https://reports.example';
const fixtureYaml = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');

/** The fixture's consulate.yaml with a dynamic_registration block appended. */
function withRegistration(extra: string[] = []): string {
  return [fixtureYaml.trimEnd(), 'dynamic_registration:', '  enabled: true', '  resources:', `    ${api}:`, '      scopes: [read-data]', ...extra.map((line) => `  ${line}`), ''].join('\n');
}

async function register(server: TestConsulate, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answerOf(response);
}

/** Registered clients in the database, and client.registered audit records: what a refusal must not add. */
async function stored(server: TestConsulate): Promise<{ rows: number; audited: number }> {
  const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = (db.prepare(`SELECT count(*) AS n FROM dynamic_clients WHERE source = 'registration'`).get() as { n: number }).n;
    const audited = (await server.deps.store.audit.list()).filter((r) => r.event === 'client.registered').length;
    return { rows, audited };
  } finally {
    db.close();
  }
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

function authorizeUrl(server: TestConsulate, clientId: string, redirectUri: string, params: Record<string, string | undefined> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const url = new URL(`${server.issuer}/authorize`);
  const all: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid read-data',
    resource: api,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    state,
    login_hint: 'alice@example.com',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return { url, verifier, state };
}

describe('dynamic client registration, disabled (the default)', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate();
  }, 60_000);
  afterAll(async () => server?.stop());

  it('POST /register is 404, discovery names no registration_endpoint, and nothing is stored', async () => {
    const answer = await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' });
    expect(answer.status).toBe(404);
    expect(answer.body.client_id).toBeUndefined();
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(metadata.issuer).toBe(server.issuer);
      expect(metadata).not.toHaveProperty('registration_endpoint');
    }
    expect(await stored(server)).toEqual({ rows: 0, audited: 0 });
  });
});

describe('dynamic client registration, enabled', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let jar: Jar;
  const alice = 'alice@example.com';
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;
  const verifyPassport = async (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt' });

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { 'consulate.yaml': withRegistration() } }));
  }, 60_000);
  afterAll(async () => stop?.());
  beforeEach(() => {
    jar = cookieJar();
  });

  it('discovery advertises the registration endpoint', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(metadata.registration_endpoint).toBe(`${server.issuer}/register`);
    }
  });

  describe('a public client', () => {
    const redirectUri = 'https://public.example.test/callback';
    let clientId: string;

    beforeAll(async () => {
      const answer = await register(server, { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Public Test App' });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.body.client_id).toMatch(/^dyn_[A-Za-z0-9_-]{16,}$/);
      expect(answer.body).not.toHaveProperty('client_secret');
      expect(answer.body).not.toHaveProperty('secret_hash');
      expect(answer.body).toMatchObject({ redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', response_types: ['code'], client_name: 'Public Test App' });
      expect(answer.body.client_id_issued_at).toEqual(expect.any(Number));
      expect(Math.abs((answer.body.client_id_issued_at as number) - Date.now() / 1000)).toBeLessThan(60);
      clientId = answer.body.client_id as string;
      const record = await server.deps.store.dynamicClients.find(clientId);
      expect(record?.source).toBe('registration');
    });

    it('runs the code flow with PKCE and a resource: consent shown, a Passport for the new client and the resource', async () => {
      const { url, verifier, state } = authorizeUrl(server, clientId, redirectUri);
      const outcome = await drive(server, okta, jar, url, { username: alice });
      expect(outcome.consentShown).toBe(true);
      const params = redirectParams(outcome, redirectUri);
      expect(params.get('state')).toBe(state);
      expect(params.get('iss')).toBe(server.issuer);
      const code = params.get('code');
      expect(code).toBeTruthy();

      const token = await postForm(server, '/token', { grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId });
      expect(token.status, token.text).toBe(200);
      expect(token.body.token_type).toMatch(/^(Bearer|DPoP)$/i);
      const { payload } = await verifyPassport(token.body.access_token as string);
      expect(payload.client_id).toBe(clientId);
      expect(payload.aud === api || (Array.isArray(payload.aud) && payload.aud.length === 1 && payload.aud[0] === api)).toBe(true);
      expect(String(payload.scope ?? '').split(' ')).toContain('read-data');
      expect((await introspect(token.body.access_token as string)).active).toBe(true);
    });

    it('a wrong code_verifier is refused for the public client', async () => {
      const { url } = authorizeUrl(server, clientId, redirectUri);
      const params = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
      const token = await postForm(server, '/token', { grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: redirectUri, code_verifier: randomBytes(32).toString('base64url'), client_id: clientId });
      expect(token.status).toBe(400);
      expect(token.body.error).toBe('invalid_grant');
    });

    it('/authorize without resource → invalid_target at the redirect URI, no code', async () => {
      const { url, state } = authorizeUrl(server, clientId, redirectUri, { resource: undefined });
      const params = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
      expect(params.get('error')).toBe('invalid_target');
      expect(params.get('state')).toBe(state);
      expect(params.get('code')).toBeNull();
    });

    it('a resource the operator did not list (though known) → invalid_target', async () => {
      const { url } = authorizeUrl(server, clientId, redirectUri, { resource: reports, scope: 'openid reports.read' });
      const params = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
      expect(params.get('error')).toBe('invalid_target');
      expect(params.get('code')).toBeNull();
    });

    it('a scope of the resource not listed for registered clients is not granted', async () => {
      const { url } = authorizeUrl(server, clientId, redirectUri, { scope: 'openid read-data write-data' });
      const params = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
      expect(params.get('error')).toBe('invalid_scope');
      expect(params.get('code')).toBeNull();
    });

    it('an unregistered redirect URI ends on an error page, not at the URI', async () => {
      const { url } = authorizeUrl(server, clientId, 'https://evil.example.test/callback');
      const outcome = await drive(server, okta, jar, url, { username: alice });
      expect(outcome.location).toBeUndefined();
      expect(outcome.page?.status).toBe(400);
    });
  });

  describe('a confidential client (client_secret_basic by default)', () => {
    const redirectUri = 'http://127.0.0.1/confidential/callback';
    let clientId: string;
    let clientSecret: string;

    beforeAll(async () => {
      const before = await stored(server);
      const answer = await register(server, { redirect_uris: [redirectUri] });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], redirect_uris: [redirectUri], client_secret_expires_at: 0 });
      expect(answer.body.client_secret).toEqual(expect.any(String));
      expect((answer.body.client_secret as string).length).toBeGreaterThanOrEqual(43);
      clientId = answer.body.client_id as string;
      clientSecret = answer.body.client_secret as string;
      expect(clientId).toMatch(/^dyn_/);
      // Stored hashed, never in clear.
      const record = await server.deps.store.dynamicClients.find(clientId);
      expect(JSON.stringify(record)).not.toContain(clientSecret);
      expect(await stored(server)).toEqual({ rows: before.rows + 1, audited: before.audited + 1 });
    });

    it('the code is redeemed with basic auth and the secret; a wrong secret is invalid_client; introspection shows it active', async () => {
      const { url, verifier } = authorizeUrl(server, clientId, redirectUri);
      const outcome = await drive(server, okta, jar, url, { username: 'bob@example.com' });
      expect(outcome.consentShown).toBe(true);
      const code = redirectParams(outcome, redirectUri).get('code')!;
      const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier };

      const wrong = await postForm(server, '/token', form, { authorization: basicAuth(clientId, `${clientSecret}x`) });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      expect(wrong.body.access_token).toBeUndefined();
      const none = await postForm(server, '/token', { ...form, client_id: clientId });
      expect(none.status).toBe(401);
      expect(none.body.error).toBe('invalid_client');

      const token = await postForm(server, '/token', form, { authorization: basicAuth(clientId, clientSecret) });
      expect(token.status, token.text).toBe(200);
      const { payload } = await verifyPassport(token.body.access_token as string);
      expect(payload.client_id).toBe(clientId);
      const info = await introspect(token.body.access_token as string);
      expect(info).toMatchObject({ active: true, client_id: clientId });
      expect(info.aud === api || (Array.isArray(info.aud) && info.aud.includes(api))).toBe(true);
    });
  });

  describe('bad input is refused and stores nothing', () => {
    let before: { rows: number; audited: number };
    beforeEach(async () => {
      before = await stored(server);
    });
    afterEach(async () => {
      expect(await stored(server)).toEqual(before);
    });

    const expectError = (answer: Answer, status: number, error: string) => {
      expect(answer.status, answer.text).toBe(status);
      expect(answer.body.error).toBe(error);
      expect(answer.body.client_id).toBeUndefined();
      expect(answer.headers.get('cache-control')).toBe('no-store');
    };

    it('redirect_uris missing, empty, non-loopback http, with a fragment, with userinfo, not a URI → invalid_redirect_uri', async () => {
      for (const body of [
        { token_endpoint_auth_method: 'none' },
        { redirect_uris: [] },
        { redirect_uris: 'https://app.example.test/cb' },
        { redirect_uris: ['http://example.com/cb'] },
        { redirect_uris: ['https://app.example.test/cb#frag'] },
        { redirect_uris: ['https://app.example.test/cb', 'https://app.example.test/cb#'] },
        { redirect_uris: ['https://user:pw@app.example.test/cb'] },
        { redirect_uris: ['not a uri'] },
        { redirect_uris: ['javascript:alert(1)'] },
        { redirect_uris: ['https://app.example.test/cb'], post_logout_redirect_uris: ['http://example.com/bye'] },
      ]) {
        expectError(await register(server, body), 400, 'invalid_redirect_uri');
      }
    });

    it('grant types other than authorization_code / refresh_token, or refresh_token alone → invalid_client_metadata', async () => {
      for (const grants of [['client_credentials'], ['authorization_code', 'client_credentials'], ['urn:ietf:params:oauth:grant-type:token-exchange'], ['implicit'], ['refresh_token'], []]) {
        expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], grant_types: grants }), 400, 'invalid_client_metadata');
      }
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], response_types: ['token'] }), 400, 'invalid_client_metadata');
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'tls_client_auth' }), 400, 'invalid_client_metadata');
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'private_key_jwt' }), 400, 'invalid_client_metadata');
    });

    it('a body that is not JSON, or not sent as JSON → invalid_client_metadata', async () => {
      expectError(await register(server, '{"redirect_uris": ['), 400, 'invalid_client_metadata');
      expectError(await register(server, ''), 400, 'invalid_client_metadata');
      expectError(await register(server, 'redirect_uris=https%3A%2F%2Fapp.example.test%2Fcb', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'invalid_client_metadata');
      expectError(await register(server, JSON.stringify({ redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' }), { 'content-type': 'text/plain' }), 400, 'invalid_client_metadata');
      // Invalid UTF-8 inside a JSON string.
      const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    });

    it('a JSON array, string, number or null body → 400 invalid_client_metadata', async () => {
      for (const body of ['[]', '[{"redirect_uris":["https://app.example.test/cb"]}]', '"x"', '42', 'null']) {
        expectError(await register(server, body), 400, 'invalid_client_metadata');
      }
    });

    it('a software_statement → invalid_software_statement', async () => {
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none', software_statement: 'eyJhbGciOiJub25lIn0.eyJzb2Z0d2FyZV9pZCI6IngifQ.' }), 400, 'invalid_software_statement');
    });

    it('a body over max_body_bytes → 413 request_too_large, declared or streamed without a length', async () => {
      const max = server.config.main.http.max_body_bytes;
      const big = JSON.stringify({ redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none', client_name: 'x', padding: 'a'.repeat(max) });
      expectError(await register(server, big), 413, 'request_too_large');

      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
          controller.close();
        },
      });
      const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: string }).error).toBe('request_too_large');
    });

    it('GET (and other methods) on /register → 405 with Allow: POST', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await fetch(`${server.url}/register`, { method });
        expect(response.status).toBe(405);
        expect(response.headers.get('allow')).toBe('POST');
        expect(((await response.json()) as { error: string }).error).toBe('method_not_allowed');
      }
    });

    it('__proto__ and constructor keys do not pollute Object.prototype; the request is answered normally', async () => {
      const body = '{"redirect_uris":["https://proto.example.test/cb"],"token_endpoint_auth_method":"none","__proto__":{"polluted":"yes","token_endpoint_auth_method":"client_secret_basic"},"constructor":{"prototype":{"polluted2":"yes"}}}';
      const answer = await register(server, body);
      expect(answer.status, answer.text).toBe(201);
      expect(answer.body.token_endpoint_auth_method).toBe('none');
      expect(answer.body).not.toHaveProperty('client_secret');
      expect(answer.body).not.toHaveProperty('polluted');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      const record = await server.deps.store.dynamicClients.find(answer.body.client_id as string);
      expect(record?.client).toMatchObject({ token_endpoint_auth_method: 'none' });
      expect(Object.keys(record?.client ?? {})).not.toContain('__proto__');
      // This one was stored: let the afterEach check count it.
      before = { rows: before.rows + 1, audited: before.audited + 1 };

      // Refused as a whole when the real fields are missing, whatever __proto__ carries.
      expectError(await register(server, '{"__proto__":{"redirect_uris":["https://proto.example.test/cb"]}}'), 400, 'invalid_redirect_uri');
      expect(({} as Record<string, unknown>).redirect_uris).toBeUndefined();
    });
  });

  describe('client keys (private_key_jwt)', () => {
    const redirectUri = 'https://keys.example.test/callback';
    let internal: Server;
    const hits: string[] = [];
    beforeAll(async () => {
      // Stands for a service on the server's own network that no registrant should reach through it.
      internal = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.setHeader('content-type', 'application/json');
        res.end('{"keys":[]}');
      });
      await new Promise<void>((done) => internal.listen(0, '127.0.0.1', done));
    });
    afterAll(async () => {
      await new Promise<void>((done) => internal.close(() => done()));
    });

    it('a jwks_uri is refused (the server would fetch a registrant-chosen URL); nothing is stored or fetched', async () => {
      const before = await stored(server);
      const { port } = internal.address() as { port: number };
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwks = { keys: [await exportJWK(publicKey)] };
      for (const jwksUri of [`http://127.0.0.1:${port}/internal/admin`, 'https://169.254.169.254/latest/meta-data', 'https://keys.example.test/jwks.json']) {
        for (const extra of [{ token_endpoint_auth_method: 'private_key_jwt' }, { token_endpoint_auth_method: 'private_key_jwt', jwks }, { token_endpoint_auth_method: 'none' }, {}]) {
          const answer = await register(server, { redirect_uris: [redirectUri], jwks_uri: jwksUri, ...extra });
          expect(answer.status, answer.text).toBe(400);
          expect(answer.body.error).toBe('invalid_client_metadata');
        }
      }
      expect(await stored(server)).toEqual(before);
      expect(hits).toEqual([]);
    });

    it('keys must fit the method and be public: no jwks for private_key_jwt, keys for others, private members → invalid_client_metadata', async () => {
      const before = await stored(server);
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const pub = await exportJWK(publicKey);
      const priv = await exportJWK(privateKey);
      for (const body of [
        { token_endpoint_auth_method: 'private_key_jwt' },
        { token_endpoint_auth_method: 'none', jwks: { keys: [pub] } },
        { token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [pub] } },
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [priv] } },
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      ]) {
        const answer = await register(server, { redirect_uris: [redirectUri], ...body });
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.body.error).toBe('invalid_client_metadata');
      }
      expect(await stored(server)).toEqual(before);
    });

    it('a client registered with inline public keys redeems its code with a signed client assertion', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const answer = await register(server, { redirect_uris: [redirectUri], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.body).not.toHaveProperty('client_secret');
      const clientId = answer.body.client_id as string;
      const { url, verifier } = authorizeUrl(server, clientId, redirectUri);
      const code = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri).get('code')!;
      const assertion = (key: Parameters<SignJWT['sign']>[0]) =>
        new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(clientId).setSubject(clientId).setAudience(server.issuer).setIssuedAt().setExpirationTime('1m').sign(key);
      const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' };
      const other = await generateKeyPair('ES256');
      const forged = await postForm(server, '/token', { ...form, client_assertion: await assertion(other.privateKey) });
      expect(forged.status).toBe(401);
      expect(forged.body.error).toBe('invalid_client');
      const token = await postForm(server, '/token', { ...form, client_assertion: await assertion(privateKey) });
      expect(token.status, token.text).toBe(200);
      expect((await verifyPassport(token.body.access_token as string)).payload.client_id).toBe(clientId);
    });
  });

  it('a client_name with markup is shown escaped on the consent page', async () => {
    const redirectUri = 'https://markup.example.test/callback';
    const answer = await register(server, { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', client_name: '<img src=x onerror=alert(1)>Evil "App"' });
    expect(answer.status, answer.text).toBe(201);
    const { url } = authorizeUrl(server, answer.body.client_id as string, redirectUri);
    const outcome = await drive(server, okta, jar, url, { username: alice, consent: 'leave' });
    expect(outcome.consentShown).toBe(true);
    expect(outcome.page!.html).not.toContain('<img src=x');
    expect(outcome.page!.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // Whatever it calls itself, the page says nobody reviewed it and where it sends the person back.
    expect(outcome.page!.html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ')).toContain('Your organization has not reviewed this application: it registered itself and will take you back to markup.example.test.');
  });

  it('the official MCP SDK registers and its client_id reaches the consent page at /authorize', async () => {
    const metadata = await discoverAuthorizationServerMetadata(server.issuer);
    expect(metadata?.registration_endpoint).toBe(`${server.issuer}/register`);
    const redirectUrl = 'http://localhost:33418/oauth/callback';
    const info = await registerClient(server.issuer, {
      metadata,
      clientMetadata: { redirect_uris: [redirectUrl], client_name: 'MCP SDK test client', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    });
    expect(info.client_id).toMatch(/^dyn_/);
    expect(info.client_secret).toBeUndefined();
    expect(await server.deps.store.dynamicClients.find(info.client_id)).toBeDefined();

    // The SDK takes the resource as a URL, whose href for a bare origin gains a "/" (https://api.demo.example/),
    // which Consulate does not match to the configured https://api.demo.example: the resource goes in as written.
    const { authorizationUrl, codeVerifier } = await startAuthorization(server.issuer, { metadata, clientInformation: info, redirectUrl, scope: 'read-data', state: 'mcp-state' });
    authorizationUrl.searchParams.set('resource', api);
    authorizationUrl.searchParams.set('login_hint', alice);
    const left = await drive(server, okta, cookieJar(), authorizationUrl, { username: alice, consent: 'leave' });
    expect(left.consentShown, left.location ?? left.page?.html.slice(0, 500)).toBe(true);
    expect(left.page?.html).toContain('MCP SDK test client');

    // And through to tokens, as the SDK would finish it.
    const outcome = await drive(server, okta, jar, authorizationUrl, { username: alice });
    const params = redirectParams(outcome, redirectUrl);
    expect(params.get('state')).toBe('mcp-state');
    const tokens = await exchangeAuthorization(server.issuer, { metadata, clientInformation: info, authorizationCode: params.get('code')!, codeVerifier, redirectUri: redirectUrl });
    const { payload } = await verifyPassport(tokens.access_token);
    expect(payload.client_id).toBe(info.client_id);
  });
});

describe('dynamic client registration with an initial access token', () => {
  let server: TestConsulate;
  const token = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': withRegistration([`initial_access_token_hash: "${hashSecret(token)}"`]) } });
  }, 60_000);
  afterAll(async () => server?.stop());

  const body = { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' };

  it('no token, a wrong one, or another scheme → 401 invalid_token with WWW-Authenticate Bearer; nothing stored', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${token}x` }, { authorization: `Bearer ${randomBytes(32).toString('base64url')}` }, { authorization: basicAuth('x', token) }, { authorization: 'Bearer' }, { authorization: `Bearer  ${token}` }]) {
      const answer = await register(server, body, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.body.error).toBe('invalid_token');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(answer.body.client_id).toBeUndefined();
    }
    // The token is checked before the body is read: even a bad body gets 401.
    const bad = await register(server, 'not json');
    expect(bad.status).toBe(401);
    expect(await stored(server)).toEqual({ rows: 0, audited: 0 });
  });

  it('the right token → 201', async () => {
    const answer = await register(server, body, { authorization: `Bearer ${token}` });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.client_id).toMatch(/^dyn_/);
    expect(await stored(server)).toEqual({ rows: 1, audited: 1 });
  });
});

describe('dynamic client registration with max_clients', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': withRegistration(['max_clients: 2']) } });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('the third registration gets 503 temporarily_unavailable and no client is added', async () => {
    const body = (n: number) => ({ redirect_uris: [`https://app${n}.example.test/cb`], token_endpoint_auth_method: 'none' });
    const first = await register(server, body(1));
    const second = await register(server, body(2));
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await register(server, body(3));
    expect(third.status).toBe(503);
    expect(third.body.error).toBe('temporarily_unavailable');
    expect(third.body.client_id).toBeUndefined();
    expect(third.body.client_secret).toBeUndefined();
    // Concurrent attempts cannot slip past the cap either.
    const burst = await Promise.all([4, 5, 6, 7].map((n) => register(server, { ...body(n), token_endpoint_auth_method: 'client_secret_post' })));
    expect(burst.map((a) => a.status)).toEqual([503, 503, 503, 503]);
    expect(await stored(server)).toEqual({ rows: 2, audited: 2 });
    const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
    try {
      const ids = (db.prepare(`SELECT client_id AS id FROM dynamic_clients`).all() as { id: string }[]).map((r) => r.id).sort();
      expect(ids).toEqual([first.body.client_id, second.body.client_id].sort());
    } finally {
      db.close();
    }
  });
});
