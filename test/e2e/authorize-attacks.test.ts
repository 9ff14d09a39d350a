// Requests an attacker (or a broken client) sends to /authorize and the consent form: each ends on
// an error page that never redirects, or — once the redirect URI is known good — on an error at it.
import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { decideConsent, findPending } from '../../src/authorize/flow.ts';
import { AuthorizePageError } from '../../src/authorize/request.ts';
import { hashId } from '../../src/oauth/ids.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieJar } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { drive, hiddenFields, redirectParams, startWithOkta } from './support/authorize.ts';
import type { Upstream } from './support/upstreams.ts';

const redirectUri = 'https://app.example.test/callback';
const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

describe('/authorize under attack', () => {
  let server: TestConsulate;
  let okta: Upstream;
  const alice = 'alice@example.com';

  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta());
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  const authorizeUrl = (params: Record<string, string | undefined>) => {
    const url = new URL(`${server.url}/authorize`);
    const all: Record<string, string | undefined> = { client_id: 'web-app', response_type: 'code', redirect_uri: redirectUri, scope: 'openid read-data', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256', ...params };
    for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
    return url;
  };

  const expectPage = async (url: URL | string) => {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('cache-control')).toBe('no-store');
    return response.text();
  };

  const expectRedirectError = async (url: URL, error: string) => {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error, state: 'st-1', iss: server.issuer });
    expect(location.searchParams.get('code')).toBeNull();
  };

  it.each([
    ['a trailing slash', `${redirectUri}/`],
    ['an added query', `${redirectUri}?next=/admin`],
    ['userinfo before the host (@)', 'https://app.example.test@evil.example/callback'],
    ['a fragment', `${redirectUri}#frag`],
    ['path traversal', 'https://app.example.test/callback/../evil'],
    ['encoded path traversal', 'https://app.example.test/callback/%2e%2e/evil'],
    ['another port', 'https://app.example.test:8443/callback'],
    ['another scheme', 'http://app.example.test/callback'],
    ['a different case in the host', 'https://APP.example.test/callback'],
  ])('redirect_uri with %s: error page, no redirect', async (_name, uri) => {
    const html = await expectPage(authorizeUrl({ redirect_uri: uri }));
    expect(html).toContain('Invalid return address');
    expect(html).not.toContain('evil.example');
  });

  it('a missing redirect_uri, an unknown client, no client_id: error pages', async () => {
    await expectPage(authorizeUrl({ redirect_uri: undefined }));
    expect(await expectPage(authorizeUrl({ client_id: 'nobody' }))).toContain('Unknown application');
    await expectPage(authorizeUrl({ client_id: undefined }));
    // A client that may not use the browser flow at all.
    await expectPage(authorizeUrl({ client_id: 'agent-basic' }));
  });

  it('a repeated parameter is an error page (the redirect URI may be the repeated one)', async () => {
    const url = authorizeUrl({});
    url.searchParams.append('redirect_uri', 'https://evil.example/cb');
    await expectPage(url);
  });

  it('loopback redirect URIs: any port (RFC 8252 §7.3), but nothing else may differ', async () => {
    const spa = (uri: string) => authorizeUrl({ client_id: 'spa', redirect_uri: uri, scope: 'openid' });
    const ok = await fetch(spa('http://127.0.0.1:53123/spa/callback'), { redirect: 'manual' });
    expect(ok.status).toBe(303);
    expect(new URL(ok.headers.get('location')!, server.url).pathname).toBe('/login');
    await expectPage(spa('http://127.0.0.1:53123/spa/callback/'));
    await expectPage(spa('http://localhost:53123/spa/callback'));
    await expectPage(spa('http://[::1]:53123/spa/callback'));
  });

  it('PKCE: missing challenge, method plain, a malformed challenge → invalid_request at the redirect URI', async () => {
    await expectRedirectError(authorizeUrl({ code_challenge: undefined, code_challenge_method: undefined }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ code_challenge: verifier, code_challenge_method: 'plain' }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ code_challenge_method: undefined }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ code_challenge: 'short' }), 'invalid_request');
  });

  it('response_type other than code, unknown scope, foreign resource, bad prompt, bad max_age, bad authorization_details', async () => {
    await expectRedirectError(authorizeUrl({ response_type: 'token' }), 'unsupported_response_type');
    await expectRedirectError(authorizeUrl({ response_type: undefined }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ scope: 'openid admin-action' }), 'invalid_scope');
    await expectRedirectError(authorizeUrl({ resource: 'https://elsewhere.example' }), 'invalid_target');
    await expectRedirectError(authorizeUrl({ prompt: 'none login' }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ prompt: 'select_account' }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ max_age: '-1' }), 'invalid_request');
    await expectRedirectError(authorizeUrl({ authorization_details: '[{"type":"tool"}]' }), 'invalid_authorization_details');
    await expectRedirectError(authorizeUrl({ response_mode: 'fragment' }), 'invalid_request');
  });

  it('a client that requires PAR cannot send a plain authorization request', async () => {
    const stop = await startConsulate({
      files: { 'clients/par-only.yaml': ['client_id: par-only', 'token_endpoint_auth_method: none', 'grant_types: [authorization_code]', 'require_par: true', `redirect_uris: [${redirectUri}]`].join('\n') },
    });
    try {
      const url = new URL(`${stop.url}/authorize`);
      for (const [k, v] of Object.entries({ client_id: 'par-only', response_type: 'code', redirect_uri: redirectUri, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' })) url.searchParams.set(k, v);
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    } finally {
      await stop.stop();
    }
  });

  it('consent POST without the CSRF token, or with another browser\'s, is refused and issues nothing', async () => {
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, authorizeUrl({ login_hint: alice }), { username: alice, consent: 'leave' });
    const fields = hiddenFields(outcome.page!.html);
    const post = (body: Record<string, string>) =>
      jar.fetch(`${server.url}/authorize/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const granted = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'authorization.granted').length;
    const before = await granted();

    const withoutToken = await post({ id: fields.id!, decision: 'allow' });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.headers.get('location')).toBeNull();
    const otherBrowser = cookieJar();
    await otherBrowser.fetch(`${server.url}/login`);
    // Another token: its first character changed (always to a different one; the last one of a
    // base64url value may carry unused bits, so changing it could leave the bytes the same).
    const foreign = await post({ id: fields.id!, decision: 'allow', csrf: `${fields.csrf!.startsWith('A') ? 'B' : 'A'}${fields.csrf!.slice(1)}` });
    expect(foreign.status).toBe(403);
    expect(await granted()).toBe(before);

    // The real form still works afterwards.
    const ok = await post({ ...fields, decision: 'allow' });
    expect(ok.status).toBe(303);
    expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    expect(await granted()).toBe(before + 1);
  });

  it('a consent POST with the right CSRF token from another site (Origin or Sec-Fetch-Site) is refused and issues nothing', async () => {
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, authorizeUrl({ login_hint: alice, prompt: 'consent' }), { username: alice, consent: 'leave' });
    const fields = hiddenFields(outcome.page!.html);
    const post = (headers: Record<string, string>) =>
      jar.fetch(`${server.url}/authorize/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ ...fields, decision: 'allow' }) });
    const granted = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'authorization.granted').length;
    const before = await granted();
    const foreign: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.2' }];
    for (const headers of foreign) {
      const refused = await post(headers);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('location')).toBeNull();
      expect(await refused.text()).toContain('not sent from a page of this site');
    }
    expect(await granted()).toBe(before);
    // From our own page (as the browser says with Sec-Fetch-Site), the same form goes through.
    const ok = await post({ 'sec-fetch-site': 'same-origin', origin: new URL(server.url).origin });
    expect(ok.status).toBe(303);
    expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('the sign-out, account and approval forms refuse another site too', async () => {
    const jar = cookieJar();
    for (const path of ['/logout', '/account/consents/revoke', '/account/delegations/revoke', '/approvals/x', '/device', '/device/decide', '/login', '/end-session/confirm']) {
      const response = await jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: 'a=b' });
      expect([path, response.status]).toEqual([path, 403]);
    }
  });

  it('a consent POST for a request that still needs step-up issues nothing: login and step-up are decided again', async () => {
    const jar = cookieJar();
    const granted = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'authorization.granted').length;
    const before = await granted();
    // No session and no login_hint: the sign-in page, whose return_to names the pending request.
    // The person signs in with a password only, then refuses to complete the step-up to mfa.
    const outcome = await drive(server, okta, jar, authorizeUrl({ acr_values: 'mfa' }), { username: alice, upstreamOptions: { acr: 'pwd' } });
    expect(outcome.page?.status).toBe(400);
    const returnTo = new URL(outcome.hops[0]!).searchParams.get('return_to')!;
    const id = new URL(returnTo, server.url).searchParams.get('id')!;
    expect(id).toBeTruthy();
    expect((await jar.fetch(`${server.url}/session`)).status).toBe(200); // the weaker session exists

    const { csrf } = hiddenFields(await (await jar.fetch(`${server.url}/login`)).text());
    const response = await jar.fetch(`${server.url}/authorize/consent`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf!, id, decision: 'allow' }),
    });
    const location = response.headers.get('location') ?? '';
    expect(location.startsWith(redirectUri)).toBe(false);
    expect(location.startsWith(okta.url)).toBe(true); // back to the step-up, as /authorize/continue would
    expect(new URL(location).searchParams.get('acr_values')).toBe('mfa');
    expect(await granted()).toBe(before);
  });

  it('the consent and account forms are read only up to max_body_bytes, and only as a urlencoded form', async () => {
    const jar = cookieJar();
    await jar.fetch(`${server.url}/login`);
    const limit = server.config.main.http.max_body_bytes;
    for (const path of ['/authorize/consent', '/account/consents/revoke']) {
      const huge = await jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `pad=${'a'.repeat(limit * 64)}` });
      expect(huge.status).toBe(400);
      expect(await huge.text()).toContain(`exceeds ${limit} bytes`);
      const multipart = new FormData();
      multipart.set('pad', 'a');
      const other = await jar.fetch(`${server.url}${path}`, { method: 'POST', body: multipart });
      expect(other.status).toBe(400);
      expect(await other.text()).toContain('content type must be');
    }
  });

  it('two answers to one consent page at once: exactly one code, the other an error page', async () => {
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, authorizeUrl({ login_hint: alice, prompt: 'consent' }), { username: alice, consent: 'leave' });
    const { id } = hiddenFields(outcome.page!.html);
    // Straight into the service, so that both answers are in flight together.
    const browserId = jar.cookies.get('consulate_browser')!;
    const session = await server.deps.store.logins.findSession(hashId(jar.cookies.get('consulate_session')!), server.deps.now());
    const answer = async () => decideConsent(server.deps, await findPending(server.deps, id, browserId), { browserId, visitor: { browser: hashId(browserId), source: '127.0.0.1' }, session, steppedUp: false }, true);
    const results = await Promise.allSettled(Array.from({ length: 5 }, answer));
    const codes = results.filter((r) => r.status === 'fulfilled' && r.value.kind === 'answer' && 'code' in r.value.result);
    expect(codes).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(4);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuthorizePageError);
  });

  it('the account page lists consents; withdrawing one ends its refresh tokens', async () => {
    const jar = cookieJar();
    const config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    const url = authorizeUrl({ login_hint: alice, state: 'acct' });
    const outcome = await drive(server, okta, jar, url, { username: alice });
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: 'acct' });
    expect(tokens.refresh_token).toBeTruthy();

    const page = await (await jar.fetch(`${server.url}/account`)).text();
    expect(page).toContain('Example Web App');
    const fields = hiddenFields(page);
    const revoked = await jar.fetch(`${server.url}/account/consents/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: fields.csrf!, client_id: 'web-app' }),
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toContain('withdrawn');
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await server.deps.store.consents.find(tokens.claims()!.sub, 'web-app')).toBeUndefined();

    // Next time the person is asked again.
    const again = await drive(server, okta, jar, authorizeUrl({ login_hint: alice }), { username: alice, consent: 'leave' });
    expect(again.consentShown).toBe(true);
  });

  it('withdrawing consent that fails half-way can be retried, and the retry still ends the refresh tokens', async () => {
    const jar = cookieJar();
    const config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    const outcome = await drive(server, okta, jar, authorizeUrl({ login_hint: alice, state: 'retry' }), { username: alice });
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: 'retry' });
    const { csrf } = hiddenFields(await (await jar.fetch(`${server.url}/account`)).text());
    const withdraw = () =>
      jar.fetch(`${server.url}/account/consents/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: csrf!, client_id: 'web-app' }) });

    const families = server.deps.store.families;
    const real = families.revokeFamiliesOf;
    families.revokeFamiliesOf = async () => {
      throw new Error('database is locked');
    };
    try {
      expect((await withdraw()).status).toBe(500);
    } finally {
      families.revokeFamiliesOf = real;
    }
    expect((await withdraw()).status).toBe(200);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await server.deps.store.consents.find(tokens.claims()!.sub, 'web-app')).toBeUndefined();
  });

  it('the redirect after consent carries iss even for errors, so a mix-up is detectable (RFC 9207)', async () => {
    const jar = cookieJar();
    const params = redirectParams(await drive(server, okta, jar, authorizeUrl({ login_hint: alice, prompt: 'consent' }), { username: alice, consent: 'deny' }), redirectUri);
    expect(params.get('iss')).toBe(server.issuer);
  });
});
