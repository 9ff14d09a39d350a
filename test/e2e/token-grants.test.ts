// The token side of the browser flow against a real server: codes made with issueCode (what
// /authorize does once a person consented), redeemed by openid-client exactly as a web app would,
// refreshed, revoked, and used at userinfo; raw form posts for what no real client sends.
import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChainBreak } from '../../src/audit/chain.ts';
import { issueCode } from '../../src/authorize/code.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import type { PersonGrant } from '../../src/grants/person-grant.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';

const api = 'https://api.demo.example';
const callback = 'https://app.example.test/callback';
const spaCallback = 'http://127.0.0.1/spa/callback';
const webApp = { authorization: basicAuth('web-app', secrets['web-app']) };
const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };
// A second web app allowed refresh tokens: presenting web-app's codes and refresh tokens.
const otherSecret = 'other-web-app-secret-0123456789abcdefghijklmnop';
const otherWebApp = `client_id: other-web-app
token_endpoint_auth_method: client_secret_basic
secret_hash: \${env:OTHER_WEB_APP_SECRET_HASH}
grant_types: [authorization_code, refresh_token]
redirect_uris: [https://app.example.test/callback]
resources:
  https://api.demo.example:
    scopes: [read-data]
`;
const otherApp = { authorization: basicAuth('other-web-app', otherSecret) };
// A web app that opted in to a grace period for refresh-token retries.
const gracefulSecret = 'graceful-app-secret-0123456789abcdefghijklmnopq';
const gracefulApp = `client_id: graceful-app
token_endpoint_auth_method: client_secret_basic
secret_hash: \${env:GRACEFUL_APP_SECRET_HASH}
grant_types: [authorization_code, refresh_token]
redirect_uris: [https://app.example.test/callback]
refresh_reuse_grace_seconds: 30
resources:
  https://api.demo.example:
    scopes: [read-data]
`;
const graceful = { authorization: basicAuth('graceful-app', gracefulSecret) };

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
/** at_hash per OIDC Core §3.1.3.6, computed here on its own. */
const atHash = (token: string) => createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');

describe('authorization_code and refresh_token grants, ID tokens, userinfo', () => {
  let server: TestConsulate;
  let person: string;
  let webConfig: client.Configuration;
  let spaConfig: client.Configuration;
  // Follows real time (openid-client checks iat/exp against it); tests move it forward and back.
  let offset = 0;
  const now = () => Math.floor(Date.now() / 1000) + offset;
  const login = { orig_iss: 'https://upstream.example.test', orig_sub: 'u-ada', upstream: 'okta', email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace', groups: ['eng'], roles: [] };

  beforeAll(async () => {
    server = await startConsulate({
      now,
      files: { 'clients/other-web-app.yaml': otherWebApp, 'clients/graceful-app.yaml': gracefulApp },
      env: { OTHER_WEB_APP_SECRET_HASH: hashSecret(otherSecret), GRACEFUL_APP_SECRET_HASH: hashSecret(gracefulSecret) },
    });
    const linked = await server.deps.store.subjects.linkLogin({ origIss: login.orig_iss, origSub: login.orig_sub, upstreamId: 'okta', linkByEmail: false, newSub: 'person-ada', now: now() });
    person = linked.sub;
    await server.deps.store.subjects.saveClaims(person, { ...login, sub: person });
    webConfig = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    client.enableNonRepudiationChecks(webConfig); // ID token signatures checked against /jwks
    spaConfig = await discover(server, 'spa', client.None());
    client.enableNonRepudiationChecks(spaConfig);
  });
  afterAll(async () => server?.stop());

  const grant = (overrides: Partial<PersonGrant> = {}): PersonGrant => ({
    sub: person,
    clientId: 'web-app',
    identityScopes: ['openid', 'profile', 'email'],
    resource: api,
    resourceScopes: ['read-data'],
    redirectUri: callback,
    codeChallenge: '',
    authTime: now() - 60,
    acr: 'urn:consulate:acr:mfa',
    amr: ['pwd', 'otp'],
    sid: 'sid-1',
    claims: { ...login, sub: person },
    ...overrides,
  });

  /** A code as /authorize would hand it out, with the verifier and nonce the client kept. */
  async function newCode(overrides: Partial<PersonGrant> = {}) {
    const verifier = b64(32);
    const nonce = b64(16);
    const granted = grant({ codeChallenge: s256(verifier), nonce, ...overrides });
    const code = await issueCode(server.deps, granted);
    return { code, verifier, nonce, authTime: granted.authTime };
  }

  const callbackUrl = (code: string, base = callback) => new URL(`${base}?code=${encodeURIComponent(code)}&iss=${encodeURIComponent(server.issuer)}`);

  async function redeem(issued: { code: string; verifier: string; nonce: string }, config = webConfig, base = callback) {
    return client.authorizationCodeGrant(config, callbackUrl(issued.code, base), { pkceCodeVerifier: issued.verifier, expectedNonce: issued.nonce, maxAge: 3600 });
  }

  const tokenPost = (form: Record<string, string>, headers: Record<string, string> = webApp) => postForm(server, '/token', form, headers);
  const codeForm = (issued: { code: string; verifier: string }, overrides: Record<string, string> = {}) => ({
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: callback,
    code_verifier: issued.verifier,
    ...overrides,
  });
  const introspect = async (token: string, headers = demoApi) => (await postForm(server, '/introspect', { token }, headers)).body;
  const verifyPassport = async (token: string, audience = api) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience, typ: 'at+jwt' });
  const userinfo = (init: RequestInit = {}, query = '') => fetch(`${server.url}/userinfo${query}`, init);

  it('discovery names userinfo, ID token algorithms, subject types, claims and both new grants', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.userinfo_endpoint).toBe(`${server.issuer}/userinfo`);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(metadata.subject_types_supported).toEqual(['public']);
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'name', 'groups', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'at_hash']));
    expect(metadata.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:device_code']);
  });

  it('happy path: a Passport for the resource, an ID token that openid-client accepts, a refresh token', async () => {
    const issued = await newCode();
    const tokens = await redeem(issued);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile', 'read-data']);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { payload: passport } = await verifyPassport(tokens.access_token);
    expect(passport).toMatchObject({ sub: person, client_id: 'web-app', aud: api, auth_time: issued.authTime, acr: 'urn:consulate:acr:mfa', amr: ['pwd', 'otp'] });

    // openid-client checked signature, iss, aud, exp, iat, nonce and auth_time (maxAge); the rest here.
    const idToken = tokens.claims();
    expect(decodeProtectedHeader(tokens.id_token as string)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(idToken).toMatchObject({
      iss: server.issuer,
      sub: person,
      aud: 'web-app',
      azp: 'web-app',
      nonce: issued.nonce,
      auth_time: issued.authTime,
      acr: 'urn:consulate:acr:mfa',
      amr: ['pwd', 'otp'],
      sid: 'sid-1',
      email: 'ada@example.test',
      name: 'Ada Lovelace',
      at_hash: atHash(tokens.access_token),
    });
    expect(idToken).not.toHaveProperty('groups');
  });

  it('authorization details granted at /authorize are carried into the Passport and the response', async () => {
    const details = [{ type: 'tool', tool: 'search', actions: ['read'] }];
    const issued = await newCode({ authorizationDetails: details });
    const response = await tokenPost(codeForm(issued));
    expect(response.status).toBe(200);
    expect(response.body.authorization_details).toEqual(details);
    expect((await verifyPassport(response.body.access_token as string)).payload.authorization_details).toEqual(details);
  });

  it('a code is single use; the second redemption revokes the Passport and refresh token of the first', async () => {
    const issued = await newCode();
    const first = await redeem(issued);
    expect((await introspect(first.access_token)).active).toBe(true);

    const second = await tokenPost(codeForm(issued));
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error: 'invalid_grant' });
    expect(second.headers.get('cache-control')).toBe('no-store');

    expect(await introspect(first.access_token)).toEqual({ active: false });
    await expect(client.refreshTokenGrant(webConfig, first.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    const events = await server.deps.store.audit.list();
    expect(events.some((e) => e.event === 'family.revoked' && e.details.reason === 'code_reused' && e.subject === person)).toBe(true);
  });

  it('a code presented by another client is refused and not consumed: its own client still redeems it', async () => {
    const issued = await newCode();
    for (const [form, headers] of [[{ ...codeForm(issued), client_id: 'spa' }, {}], [codeForm(issued), otherApp]] as const) {
      const stolen = await tokenPost(form, headers);
      expect(stolen.status).toBe(400);
      expect(stolen.body.error).toBe('invalid_grant');
    }
    const tokens = await redeem(issued);
    expect((await introspect(tokens.access_token)).active).toBe(true);
  });

  it('a client that may not use authorization_code gets unauthorized_client, and the code stays usable', async () => {
    const issued = await newCode();
    const refused = await tokenPost(codeForm(issued), { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect((await tokenPost(codeForm(issued))).status).toBe(200);
  });

  it('a wrong redirect_uri is invalid_grant and spends the code', async () => {
    const issued = await newCode();
    const wrong = await tokenPost(codeForm(issued, { redirect_uri: 'http://127.0.0.1/callback' }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const missing = await newCode();
    const { redirect_uri: _, ...withoutRedirect } = codeForm(missing);
    expect((await tokenPost(withoutRedirect)).body.error).toBe('invalid_grant');
    // The right request afterwards: the code is gone.
    expect((await tokenPost(codeForm(issued))).body.error).toBe('invalid_grant');
    expect((await tokenPost(codeForm(missing))).body.error).toBe('invalid_grant');
  });

  it('a wrong or missing code_verifier is invalid_grant and spends the code', async () => {
    const wrong = await newCode();
    expect((await tokenPost(codeForm(wrong, { code_verifier: b64(32) }))).body.error).toBe('invalid_grant');
    await expect(redeem(wrong)).rejects.toMatchObject({ error: 'invalid_grant' });

    const missing = await newCode();
    const { code_verifier: _, ...withoutVerifier } = codeForm(missing);
    const refused = await tokenPost(withoutVerifier);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    await expect(redeem(missing)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('an expired, unknown or missing code is refused', async () => {
    const issued = await newCode();
    offset += server.config.main.authorization.code_ttl_seconds + 1;
    try {
      const expired = await tokenPost(codeForm(issued));
      expect(expired.status).toBe(400);
      expect(expired.body.error).toBe('invalid_grant');
    } finally {
      offset = 0;
    }
    expect((await tokenPost(codeForm({ code: b64(32), verifier: b64(32) }))).body.error).toBe('invalid_grant');
    const { code: _, ...withoutCode } = codeForm(issued);
    expect((await tokenPost(withoutCode)).body.error).toBe('invalid_request');
  });

  it('10 concurrent redemptions of one code: exactly one 200, and the reuse kills what it got', async () => {
    const issued = await newCode();
    const responses = await Promise.all(Array.from({ length: 10 }, () => tokenPost(codeForm(issued))));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect(r.body).toMatchObject({ error: 'invalid_grant' });
    const winner = ok[0]?.body as { access_token: string; refresh_token: string };
    expect(await introspect(winner.access_token)).toEqual({ active: false });
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: winner.refresh_token })).body.error).toBe('invalid_grant');
  });

  it('refresh: rotation with claims of the latest login and no nonce; reusing an old token revokes the family', async () => {
    const issued = await newCode();
    const first = await redeem(issued);
    await server.deps.store.subjects.saveClaims(person, { ...login, sub: person, name: 'Ada King' });
    try {
      const second = await client.refreshTokenGrant(webConfig, first.refresh_token as string);
      expect(second.refresh_token).toBeDefined();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      const idToken = second.claims();
      // auth_time stays the login's (the code's ID token's), whatever second the refresh happens in.
      expect(idToken).toMatchObject({ sub: person, name: 'Ada King', auth_time: first.claims()?.auth_time, sid: 'sid-1', at_hash: atHash(second.access_token) });
      expect(idToken).not.toHaveProperty('nonce');
      expect((await introspect(second.access_token)).active).toBe(true);

      // The first token again: someone else may have it. Everything of the family dies.
      const reuse = await tokenPost({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
      expect(reuse.status).toBe(400);
      expect(reuse.body.error).toBe('invalid_grant');
      await expect(client.refreshTokenGrant(webConfig, second.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect(await introspect(second.access_token)).toEqual({ active: false });
      expect(await introspect(first.access_token)).toEqual({ active: false });
      const events = await server.deps.store.audit.list();
      expect(events.some((e) => e.event === 'family.revoked' && e.details.reason === 'refresh_token_reused')).toBe(true);
    } finally {
      await server.deps.store.subjects.saveClaims(person, { ...login, sub: person });
    }
  });

  it('refresh: its own client introspects a live refresh token (RFC 7662); a rotated one, another client\'s view and a dead family are inactive', async () => {
    const first = await redeem(await newCode());
    const live = await introspect(first.refresh_token as string, webApp);
    expect(live).toMatchObject({ active: true, token_type: 'refresh_token', client_id: 'web-app', sub: person, iss: server.issuer });
    expect(String(live.scope).split(' ')).toEqual(expect.arrayContaining(['openid', 'read-data']));
    expect(live.exp).toBeGreaterThan(live.iat as number);
    // Another client (the resource server) learns nothing about it.
    expect(await introspect(first.refresh_token as string)).toEqual({ active: false });
    const second = await client.refreshTokenGrant(webConfig, first.refresh_token as string);
    expect(await introspect(first.refresh_token as string, webApp)).toEqual({ active: false });
    expect((await introspect(second.refresh_token as string, webApp)).active).toBe(true);
    await tokenPost({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
    expect(await introspect(second.refresh_token as string, webApp)).toEqual({ active: false });
  });

  it('refresh: a client with a grace period that presents its just-rotated token again gets a successor; after the grace, the family dies', async () => {
    const issued = await newCode({ clientId: 'graceful-app', identityScopes: ['openid'] });
    const first = await tokenPost(codeForm(issued), graceful);
    expect(first.status).toBe(200);
    const refresh = (token: unknown) => tokenPost({ grant_type: 'refresh_token', refresh_token: token as string }, graceful);
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    // The response was lost: the client retries with the token it still has.
    const retried = await refresh(first.body.refresh_token);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).not.toBe(second.body.refresh_token);
    expect((await introspect(retried.body.access_token as string)).active).toBe(true);
    const receipts = await server.deps.store.audit.list({ limit: 10_000 });
    expect(receipts.filter((r) => r.clientId === 'graceful-app' && r.details.refresh_reuse === 'within_grace')).toHaveLength(1);
    // Another client presenting it is refused and changes nothing.
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, otherApp)).status).toBe(400);
    expect((await refresh(retried.body.refresh_token)).status).toBe(200);
    // Past the grace period the same retry is a reuse: the family, and what it issued, die.
    offset += 31;
    try {
      const late = await refresh(first.body.refresh_token);
      expect([late.status, late.body.error]).toEqual([400, 'invalid_grant']);
      expect(await introspect(retried.body.access_token as string)).toEqual({ active: false });
      expect((await refresh(second.body.refresh_token)).status).toBe(400);
    } finally {
      offset -= 31;
    }
  });

  it('refresh: scope narrows for one response only; widening is invalid_scope and spends nothing', async () => {
    const first = await redeem(await newCode({ resourceScopes: ['read-data', 'write-data'] }));
    const narrowed = await client.refreshTokenGrant(webConfig, first.refresh_token as string, { scope: 'read-data' });
    expect(narrowed.scope).toBe('read-data');
    expect(narrowed.id_token).toBeUndefined(); // no openid asked for: no ID token
    expect((await verifyPassport(narrowed.access_token)).payload.scope).toBe('read-data');

    const widened = await tokenPost({ grant_type: 'refresh_token', refresh_token: narrowed.refresh_token as string, scope: 'read-data reports.read' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');

    // The same token still works (the refusal did not spend it), and the next response has the whole grant.
    const whole = await client.refreshTokenGrant(webConfig, narrowed.refresh_token as string);
    expect(whole.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile', 'read-data', 'write-data']);
    expect(whole.id_token).toBeDefined();
  });

  it('refresh: another client, an unknown token or a missing one are refused', async () => {
    const first = await redeem(await newCode());
    const other = await tokenPost({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string }, otherApp);
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_grant');
    const spa = await tokenPost({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string, client_id: 'spa' }, {});
    expect(spa.body.error).toBe('unauthorized_client'); // spa may not use refresh_token at all
    expect((await tokenPost({ grant_type: 'refresh_token', refresh_token: b64(32) })).body.error).toBe('invalid_grant');
    expect((await tokenPost({ grant_type: 'refresh_token' })).body.error).toBe('invalid_request');
    // None of that spent the real token.
    expect((await client.refreshTokenGrant(webConfig, first.refresh_token as string)).access_token).toBeDefined();
  });

  it('refresh: a chain of refreshes ends with the family, however recently the last token was issued', async () => {
    const { refresh_ttl_seconds, refresh_family_max_seconds } = server.config.main.authorization;
    const step = refresh_ttl_seconds - 86_400;
    let refreshToken = (await tokenPost(codeForm(await newCode()))).body.refresh_token as string;
    try {
      while (offset + step < refresh_family_max_seconds) {
        offset += step;
        const refreshed = await tokenPost({ grant_type: 'refresh_token', refresh_token: refreshToken });
        expect(refreshed.status).toBe(200);
        refreshToken = refreshed.body.refresh_token as string;
      }
      offset = refresh_family_max_seconds + 1;
      const ended = await tokenPost({ grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(ended.status).toBe(400);
      expect(ended.body.error).toBe('invalid_grant');
    } finally {
      offset = 0;
    }
  });

  it('a public client redeems with its client_id only and gets no refresh token', async () => {
    const issued = await newCode({ clientId: 'spa', redirectUri: spaCallback, resourceScopes: ['read-data'] });
    const tokens = await redeem(issued, spaConfig, spaCallback);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.claims()).toMatchObject({ aud: 'spa', nonce: issued.nonce, at_hash: atHash(tokens.access_token) });
    expect((await verifyPassport(tokens.access_token)).payload.client_id).toBe('spa');
  });

  describe('userinfo', () => {
    /** A Passport for Consulate itself: a grant with identity scopes only. */
    const forUserinfo = async (identityScopes = ['openid', 'profile', 'email']) => {
      const issued = await newCode({ resource: undefined, resourceScopes: [], identityScopes });
      if (identityScopes.includes('openid')) return (await redeem(issued)).access_token;
      // Without openid there is no ID token, which openid-client would insist on after a nonce.
      const response = await tokenPost(codeForm(issued));
      expect(response.body).not.toHaveProperty('id_token');
      return response.body.access_token as string;
    };

    it('GET with the Authorization header, as openid-client does', async () => {
      const token = await forUserinfo();
      expect((await verifyPassport(token, server.issuer)).payload.aud).toBe(server.issuer);
      const info = await client.fetchUserInfo(webConfig, token, person);
      expect(info).toMatchObject({ sub: person, name: 'Ada Lovelace', email: 'ada@example.test', email_verified: true, orig_iss: login.orig_iss });
      expect(info).not.toHaveProperty('groups');
      const raw = await userinfo({ headers: { authorization: `Bearer ${token}` } });
      expect(raw.headers.get('cache-control')).toBe('no-store');
    });

    it('POST with the token in the header or in the form body; never both, never in the query', async () => {
      const token = await forUserinfo(['openid', 'email']);
      const viaHeader = await userinfo({ method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(await viaHeader.json()).toEqual({ sub: person, orig_iss: login.orig_iss, orig_sub: login.orig_sub, email: 'ada@example.test', email_verified: true });
      const viaBody = await postForm(server, '/userinfo', { access_token: token });
      expect(viaBody.status).toBe(200);
      expect(viaBody.body).toMatchObject({ sub: person, email: 'ada@example.test' });
      expect(viaBody.body).not.toHaveProperty('name');

      const both = await postForm(server, '/userinfo', { access_token: token }, { authorization: `Bearer ${token}` });
      expect(both.status).toBe(400);
      expect(both.body.error).toBe('invalid_request');
      const query = await userinfo({}, `?access_token=${token}`);
      expect(query.status).toBe(400);
    });

    it('no token: 401 with bare Bearer and DPoP challenges; a bad one: invalid_token', async () => {
      const none = await userinfo();
      expect(none.status).toBe(401);
      // RFC 6750 §3.1 and RFC 9449 §7.1: both schemes offered, no error code, DPoP with its algorithms.
      expect(none.headers.get('www-authenticate')).toBe('Bearer, DPoP algs="ES256 ES384 EdDSA Ed25519 RS256 PS256"');
      expect((await userinfo({ headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).toBe(401);

      for (const bad of ['not-a-token', `${(await forUserinfo()).slice(0, -4)}AAAA`]) {
        const response = await userinfo({ headers: { authorization: `Bearer ${bad}` } });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        expect(await response.json()).toMatchObject({ error: 'invalid_token' });
      }
      // A Passport for a resource is not one for userinfo, even with openid in its scope.
      const forApi = (await redeem(await newCode())).access_token;
      const refused = await userinfo({ headers: { authorization: `Bearer ${forApi}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('without openid in the scope: 403 insufficient_scope', async () => {
      const token = await forUserinfo(['profile']);
      const response = await userinfo({ headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="openid"/);
      expect(await response.json()).toMatchObject({ error: 'insufficient_scope' });
    });

    it('a revoked Passport: invalid_token', async () => {
      const token = await forUserinfo();
      expect((await postForm(server, '/revoke', { token }, webApp)).status).toBe(200);
      const response = await userinfo({ headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });

  it('revoking a refresh token at /revoke revokes its family; another client may not', async () => {
    const tokens = await redeem(await newCode());
    const foreign = await postForm(server, '/revoke', { token: tokens.refresh_token as string }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('unauthorized_client');
    expect((await introspect(tokens.access_token)).active).toBe(true);

    await client.tokenRevocation(webConfig, tokens.refresh_token as string, { token_type_hint: 'refresh_token' });
    await expect(client.refreshTokenGrant(webConfig, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    // Unknown and already revoked tokens are not errors (RFC 7009 §2.2).
    expect((await postForm(server, '/revoke', { token: tokens.refresh_token as string }, webApp)).status).toBe(200);
    expect((await postForm(server, '/revoke', { token: b64(32) }, webApp)).status).toBe(200);
    const events = await server.deps.store.audit.list();
    expect(events.filter((e) => e.event === 'family.revoked' && e.details.reason === 'refresh_token_revoked')).toHaveLength(1);
  });

  it('receipts: every issuance and denial is recorded, the chain holds, and no token or code reaches the log', async () => {
    const issued = await newCode();
    const tokens = await redeem(issued);
    const refreshed = await client.refreshTokenGrant(webConfig, tokens.refresh_token as string);
    const events = await server.deps.store.audit.list({ limit: 10_000 });
    const issuedEvents = events.filter((e) => e.event === 'passport.issued');
    const byJti = (token: string) => issuedEvents.find((e) => e.tokenJti === decodeJti(token));
    expect(byJti(tokens.access_token)).toMatchObject({ clientId: 'web-app', subject: person, details: { grant_type: 'authorization_code', aud: api, id_token: true, refresh_token: true } });
    expect(byJti(refreshed.access_token)).toMatchObject({ details: { grant_type: 'refresh_token' } });
    // The Passport names its receipt.
    expect((await verifyPassport(tokens.access_token)).payload.receipt).toBe(byJti(tokens.access_token)?.id);
    expect(events.some((e) => e.event === 'passport.denied' && e.details.reason === 'pkce_verifier_mismatch')).toBe(true);
    expect(events.some((e) => e.event === 'passport.denied' && e.details.reason === 'code_of_another_client')).toBe(true);
    expect(findChainBreak(events)).toBe(-1);

    const logs = server.rawLogs() + JSON.stringify(events);
    for (const secret of [issued.code, issued.verifier, tokens.access_token, tokens.refresh_token, tokens.id_token, refreshed.refresh_token]) {
      expect(logs.includes(secret as string)).toBe(false);
    }
  });
});

function decodeJti(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string }).jti;
}
