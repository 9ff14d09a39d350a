// Dynamic client registration (RFC 7591) against a real server: off by default; when on, a client
// registers itself, runs the code flow with PKCE through a stand-in Okta and consent, and gets a
// Passport only for the resource and scopes the operator listed; the MCP SDK registers as is.
// Refusals (bad metadata, the initial access token, the cap): registration-attacks.test.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { discoverAuthorizationServerMetadata, exchangeAuthorization, registerClient, startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drive, redirectParams, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { api, authorizeUrl, register, reports, stored, withRegistration } from './support/registration.ts';
import type { Upstream } from './support/upstreams.ts';


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

    // The SDK takes the resource as a URL, whose href for a bare origin gains a "/": Consulate takes
    // https://api.demo.example/ as the configured https://api.demo.example (RFC 3986 §6.2.3).
    const { authorizationUrl, codeVerifier } = await startAuthorization(server.issuer, { metadata, clientInformation: info, redirectUrl, scope: 'read-data', state: 'mcp-state', resource: new URL(api) });
    expect(authorizationUrl.searchParams.get('resource')).toBe(`${api}/`);
    authorizationUrl.searchParams.set('login_hint', alice);
    const left = await drive(server, okta, cookieJar(), authorizationUrl, { username: alice, consent: 'leave' });
    expect(left.consentShown, left.location ?? left.page?.html.slice(0, 500)).toBe(true);
    expect(left.page?.html).toContain('MCP SDK test client');

    // And through to tokens, as the SDK would finish it.
    const outcome = await drive(server, okta, jar, authorizationUrl, { username: alice });
    const params = redirectParams(outcome, redirectUrl);
    expect(params.get('state')).toBe('mcp-state');
    const tokens = await exchangeAuthorization(server.issuer, { metadata, clientInformation: info, authorizationCode: params.get('code')!, codeVerifier, redirectUri: redirectUrl, resource: new URL(api) });
    const { payload } = await verifyPassport(tokens.access_token);
    expect(payload.client_id).toBe(info.client_id);
    expect(payload.aud).toBe(api);
  });
});
