// The stand-in upstream IdPs (test/e2e/support/upstreams.ts) behave like real OpenID providers:
// openid-client, as a relying party, runs discovery, authorization code + PKCE, token and
// userinfo against each, and the ID tokens carry each IdP's shape.
import { createServer } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ENTRA_TENANT_ID,
  defaultAccounts,
  ENTRA_GROUPS,
  startUpstream,
  type Upstream,
  type UpstreamKind,
  type UpstreamLoginOptions,
} from './support/upstreams.ts';

// Never contacted: login() stops at the redirect back to it.
const REDIRECT_URI = 'http://127.0.0.1:9/upstream/callback';
const CLIENT = { client_id: 'consulate', client_secret: 'upstream-client-secret-0123456789abcdef', redirect_uris: [REDIRECT_URI] };

type FlowOptions = {
  scope?: string;
  params?: Record<string, string>;
  login?: UpstreamLoginOptions;
  auth?: 'basic' | 'post';
  maxAge?: number;
};

async function configFor(upstream: Upstream, auth: 'basic' | 'post' = 'basic'): Promise<client.Configuration> {
  const method = auth === 'basic' ? client.ClientSecretBasic(CLIENT.client_secret) : client.ClientSecretPost(CLIENT.client_secret);
  return client.discovery(new URL(upstream.issuer), CLIENT.client_id, undefined, method, { execute: [client.allowInsecureRequests] });
}

async function authorizationUrl(config: client.Configuration, options: FlowOptions = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.params,
  });
  return { url, verifier, state, nonce };
}

/** Authorization code + PKCE through the upstream, then token and userinfo, as a relying party would. */
async function flow(upstream: Upstream, username: string, options: FlowOptions = {}) {
  const config = await configFor(upstream, options.auth);
  const request = await authorizationUrl(config, options);
  const redirect = new URL(await upstream.login(request.url.href, username, options.login));
  const tokens = await client.authorizationCodeGrant(config, redirect, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
  });
  const claims = tokens.claims()!;
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  return { config, redirect, tokens, claims, userinfo };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Entra stand-in', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream({ kind: 'entra', clients: [CLIENT] });
  });
  afterAll(() => upstream.close());

  it('has a path-based issuer with discovery under it, endpoints under /<tenant>', async () => {
    expect(upstream.tenantId).toBe(DEFAULT_ENTRA_TENANT_ID);
    expect(upstream.issuer).toBe(`${upstream.url}/${DEFAULT_ENTRA_TENANT_ID}/v2.0`);
    expect(upstream.discoveryUrl).toBe(`${upstream.issuer}/.well-known/openid-configuration`);
    const metadata = (await (await fetch(upstream.discoveryUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: upstream.issuer,
      authorization_endpoint: `${upstream.url}/${DEFAULT_ENTRA_TENANT_ID}/oauth2/v2.0/authorize`,
      token_endpoint: `${upstream.url}/${DEFAULT_ENTRA_TENANT_ID}/oauth2/v2.0/token`,
      jwks_uri: `${upstream.url}/${DEFAULT_ENTRA_TENANT_ID}/discovery/v2.0/keys`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: true,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    // Only the v2.0 discovery document exists.
    expect((await fetch(`${upstream.url}/${DEFAULT_ENTRA_TENANT_ID}/.well-known/openid-configuration`)).status).toBe(404);
  });

  it('logs alice in: oid, tid, groups GUIDs, xms_edov, auth_time, amr; userinfo answers', async () => {
    const { redirect, claims, userinfo, tokens } = await flow(upstream, 'alice@contoso.example');
    expect(redirect.searchParams.get('iss')).toBe(upstream.issuer);
    expect(claims.iss).toBe(upstream.issuer);
    expect(claims.aud).toBe(CLIENT.client_id);
    expect(claims).toMatchObject({
      sub: 'Zx3d8bQ2mVnK7pL0sR4tU6wY9aC1eG5iJ8kM2oQ4sU0',
      oid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
      tid: DEFAULT_ENTRA_TENANT_ID,
      preferred_username: 'alice@contoso.example',
      name: 'Alice Anderson',
      email: 'alice@contoso.example',
      xms_edov: true,
      amr: ['pwd'],
    });
    expect(claims.groups).toEqual([ENTRA_GROUPS.engineering, ENTRA_GROUPS.admins, ENTRA_GROUPS.everyone]);
    for (const group of claims.groups as string[]) expect(group).toMatch(GUID);
    expect(claims.oid).toMatch(GUID);
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.acr).toBeUndefined();
    expect(claims.email_verified).toBeUndefined();
    expect(userinfo).toMatchObject({ sub: claims.sub, oid: claims.oid, email: 'alice@contoso.example' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
  });

  it('bob has no xms_edov; acr follows the login and amr shows MFA', async () => {
    const { claims } = await flow(upstream, 'bob@contoso.example', { params: { acr_values: 'mfa' }, login: { acr: 'mfa' } });
    expect(claims.email).toBe('bob@fabrikam.example');
    expect(claims).not.toHaveProperty('xms_edov');
    expect(claims.acr).toBe('mfa');
    expect(claims.amr).toEqual(['pwd', 'mfa']);
  });

  it('openid alone releases sub, tid and groups but not oid or email', async () => {
    const { claims } = await flow(upstream, 'alice@contoso.example', { scope: 'openid' });
    expect(claims.tid).toBe(DEFAULT_ENTRA_TENANT_ID);
    expect(claims.groups).toHaveLength(3);
    expect(claims).not.toHaveProperty('oid');
    expect(claims).not.toHaveProperty('email');
  });

  it('uses the tenant it is given', async () => {
    const tenantId = '11111111-2222-4333-8444-555555555555';
    const other = await startUpstream({ kind: 'entra', clients: [CLIENT], tenantId });
    try {
      expect(other.issuer).toBe(`${other.url}/${tenantId}/v2.0`);
      const { claims } = await flow(other, 'alice@contoso.example');
      expect(claims.tid).toBe(tenantId);
      expect(claims.iss).toBe(other.issuer);
    } finally {
      await other.close();
    }
  });
});

describe('Okta stand-in', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream({ kind: 'okta', clients: [CLIENT] });
  });
  afterAll(() => upstream.close());

  it('has issuer /oauth2/default and /v1 endpoints', async () => {
    expect(upstream.issuer).toBe(`${upstream.url}/oauth2/default`);
    expect(upstream.discoveryUrl).toBe(`${upstream.issuer}/.well-known/openid-configuration`);
    const config = await configFor(upstream);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(upstream.issuer);
    expect(metadata.authorization_endpoint).toBe(`${upstream.issuer}/v1/authorize`);
    expect(metadata.token_endpoint).toBe(`${upstream.issuer}/v1/token`);
    expect(metadata.jwks_uri).toBe(`${upstream.issuer}/v1/keys`);
    expect(metadata.userinfo_endpoint).toBe(`${upstream.issuer}/v1/userinfo`);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'groups']));
  });

  it('logs alice in with client_secret_post: uid, group names, email_verified', async () => {
    const { claims, userinfo } = await flow(upstream, 'alice@example.com', { scope: 'openid profile email groups', auth: 'post' });
    expect(claims).toMatchObject({
      iss: upstream.issuer,
      sub: '00u1a2b3c4d5e6f7g8h9',
      uid: '00u1a2b3c4d5e6f7g8h9',
      preferred_username: 'alice@example.com',
      name: 'Alice Anderson',
      email: 'alice@example.com',
      email_verified: true,
      groups: ['Everyone', 'Engineering', 'Admins'],
      amr: ['pwd'],
    });
    expect(typeof claims.auth_time).toBe('number');
    expect(userinfo).toMatchObject({ sub: claims.sub, groups: ['Everyone', 'Engineering', 'Admins'], email_verified: true });
  });

  it('bob: email_verified false; no groups without the groups scope', async () => {
    const { claims } = await flow(upstream, 'BOB@example.com');
    expect(claims.email_verified).toBe(false);
    expect(claims).not.toHaveProperty('groups');
  });

  it('honours prompt=login, max_age and acr_values (the login page defaults to the requested acr)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { claims } = await flow(upstream, 'alice@example.com', {
      params: { prompt: 'login', max_age: '300', acr_values: 'urn:okta:loa:2fa:any' },
      maxAge: 300,
    });
    expect(claims.acr).toBe('urn:okta:loa:2fa:any');
    expect(claims.amr).toEqual(['pwd', 'mfa']);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
  });

  it('keeps a session in a reused browser: the second login asks for nothing', async () => {
    const browser = upstream.newBrowser();
    const first = await flow(upstream, 'alice@example.com', { login: { browser } });
    expect(browser.cookieNames()).toContain('_session');
    // Unknown username: it would fail if the upstream showed the login page again.
    const second = await flow(upstream, 'nobody@example.com', { login: { browser } });
    expect(second.claims.sub).toBe(first.claims.sub);
    expect(second.claims.auth_time).toBe(first.claims.auth_time);
    // prompt=login forces a new login even with a session.
    await expect(flow(upstream, 'nobody@example.com', { login: { browser }, params: { prompt: 'login' } })).rejects.toThrow(/login failed/);
  });
});

describe('Auth0 stand-in', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream({ kind: 'auth0', clients: [CLIENT] });
  });
  afterAll(() => upstream.close());

  it('has an issuer with a trailing slash and Auth0 endpoint paths', async () => {
    expect(upstream.issuer).toBe(`${upstream.url}/`);
    expect(upstream.discoveryUrl).toBe(`${upstream.url}/.well-known/openid-configuration`);
    const metadata = (await configFor(upstream)).serverMetadata();
    expect(metadata.issuer).toBe(`${upstream.url}/`);
    expect(metadata.authorization_endpoint).toBe(`${upstream.url}/authorize`);
    expect(metadata.token_endpoint).toBe(`${upstream.url}/oauth/token`);
    expect(metadata.jwks_uri).toBe(`${upstream.url}/.well-known/jwks.json`);
  });

  it('logs alice in: auth0| sub, namespaced roles, email_verified', async () => {
    const { claims, userinfo, redirect } = await flow(upstream, 'alice@example.com');
    expect(redirect.searchParams.get('iss')).toBe(`${upstream.url}/`);
    expect(claims).toMatchObject({
      iss: `${upstream.url}/`,
      sub: 'auth0|abc123',
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Anderson',
      'https://example.com/roles': ['admin'],
      'https://example.com/org': 'acme',
    });
    expect(typeof claims.auth_time).toBe('number');
    expect(userinfo).toMatchObject({ sub: 'auth0|abc123', 'https://example.com/roles': ['admin'] });
  });

  it('bob: email_verified false, no roles', async () => {
    const { claims } = await flow(upstream, 'bob@example.com');
    expect(claims).toMatchObject({ sub: 'auth0|def456', email_verified: false, 'https://example.com/roles': [] });
  });

  it('declined consent comes back as access_denied with iss', async () => {
    const config = await configFor(upstream);
    const { url, state } = await authorizationUrl(config);
    const redirect = new URL(await upstream.login(url.href, 'alice@example.com', { consent: false }));
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(redirect.searchParams)).toMatchObject({ error: 'access_denied', state, iss: `${upstream.url}/` });
  });
});

describe('plain OIDC stand-in', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream({
      kind: 'oidc',
      clients: [CLIENT, { client_id: 'other', client_secret: 'other-secret', redirect_uris: ['http://127.0.0.1:9/other/cb'] }],
      accounts: [
        ...defaultAccounts('oidc'),
        { id: 'carol-1', username: 'carol', claims: { name: 'Carol', email: 'carol@example.org', email_verified: true, department: 'R&D' } },
      ],
    });
  });
  afterAll(() => upstream.close());

  it('logs alice in with standard claims only', async () => {
    const { claims, userinfo } = await flow(upstream, 'alice@example.org');
    expect(upstream.issuer).toBe(upstream.url);
    expect(claims).toMatchObject({
      iss: upstream.url,
      sub: 'alice',
      name: 'Alice Anderson',
      given_name: 'Alice',
      family_name: 'Anderson',
      preferred_username: 'alice',
      email: 'alice@example.org',
      email_verified: true,
    });
    expect(typeof claims.auth_time).toBe('number');
    expect(userinfo).toMatchObject({ sub: 'alice', email: 'alice@example.org' });
    const { claims: bob } = await flow(upstream, 'bob@example.org');
    expect(bob.email_verified).toBe(false);
  });

  it('releases a custom account claim with openid and takes an explicit amr', async () => {
    const { claims } = await flow(upstream, 'carol', { scope: 'openid', login: { acr: 'pwd', amr: ['pwd', 'hwk'] } });
    expect(claims).toMatchObject({ sub: 'carol-1', department: 'R&D', acr: 'pwd', amr: ['pwd', 'hwk'] });
    expect(claims).not.toHaveProperty('email');
  });

  it('requires PKCE', async () => {
    const config = await configFor(upstream);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'abc' });
    const redirect = new URL(await upstream.login(url.href, 'alice@example.org'));
    expect(redirect.searchParams.get('error')).toBe('invalid_request');
    expect(redirect.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('rejects a wrong client secret at the token endpoint', async () => {
    const good = await configFor(upstream);
    const request = await authorizationUrl(good);
    const redirect = new URL(await upstream.login(request.url.href, 'alice@example.org'));
    const bad = await client.discovery(new URL(upstream.issuer), CLIENT.client_id, undefined, client.ClientSecretBasic('wrong'), {
      execute: [client.allowInsecureRequests],
    });
    await expect(
      client.authorizationCodeGrant(bad, redirect, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }),
    ).rejects.toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }] });
  });

  it('fails login() for an unknown user and for an unregistered redirect_uri', async () => {
    const config = await configFor(upstream);
    const { url } = await authorizationUrl(config);
    await expect(upstream.login(url.href, 'mallory@example.org')).rejects.toThrow(/login failed for mallory/);
    const wrong = new URL(url);
    wrong.searchParams.set('redirect_uri', 'http://127.0.0.1:9/elsewhere');
    await expect(upstream.login(wrong.href, 'alice@example.org')).rejects.toThrow(/redirect_uri/);
  });
});

describe('close()', () => {
  it.each<UpstreamKind>(['entra', 'okta', 'auth0', 'oidc'])('frees the port (%s)', async (kind) => {
    const upstream = await startUpstream({ kind, clients: [CLIENT] });
    expect((await fetch(upstream.discoveryUrl)).status).toBe(200);
    const port = Number(new URL(upstream.url).port);
    await upstream.close();
    await upstream.close(); // idempotent
    await expect(fetch(upstream.discoveryUrl)).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});
