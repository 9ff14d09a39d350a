// The person's upstream fails during a sign-in: its token endpoint answers 5xx, or it cannot be
// reached when the sign-in starts (a second upstream nobody listens for). A sign-in made for
// an app's authorization request ends that request: the app hears temporarily_unavailable at its
// redirect_uri with state and iss, in its response mode (RFC 6749 §4.1.2.1, RFC 9207), as
// openid-client reads it; a pushed request it came from is used up. A sign-in of Consulate's own
// pages keeps the 502 page. Nothing is signed in either way.
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { drive, redirectParams, startWithOkta } from './support/authorize.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const redirectUri = 'https://app.example.test/callback';
const alice = 'alice@example.com';

describe('an upstream failing during the sign-in', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let config: client.Configuration;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    // A second upstream that cannot be reached at all (nothing listens on its port).
    const down = ['id: down', 'kind: oidc', 'name: Down Corp', `issuer: http://127.0.0.1:${await freePort()}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}', 'email_domains: [down.example]', 'timeout_ms: 2000'];
    ({ server, okta, stop } = await startWithOkta({ files: { 'upstreams/down.yaml': down.join('\n') } }));
    config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterEach(() => okta.failTokenRequests(undefined));
  afterAll(async () => stop?.());

  const checks = () => ({ verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() });
  async function authorizationUrl(c: ReturnType<typeof checks>, extra: Record<string, string> = {}) {
    return client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid read-data',
      code_challenge: await client.calculatePKCECodeChallenge(c.verifier),
      code_challenge_method: 'S256',
      state: c.state,
      nonce: c.nonce,
      ...extra,
    });
  }

  it.each([500, 503])('a token endpoint answering %i: the app gets temporarily_unavailable with state and iss, and no one is signed in', async (status) => {
    okta.failTokenRequests(status);
    const c = checks();
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, await authorizationUrl(c, { login_hint: alice }), { username: alice });
    const params = redirectParams(outcome, redirectUri);
    expect(Object.fromEntries(params)).toMatchObject({ error: 'temporarily_unavailable', state: c.state, iss: server.issuer });
    expect(params.get('code')).toBeNull();
    // What a real client makes of it.
    const error = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: c.verifier, expectedState: c.state, expectedNonce: c.nonce }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(client.AuthorizationResponseError);
    expect((error as client.AuthorizationResponseError).error).toBe('temporarily_unavailable');
    expect(jar.cookies.has('consulate_session')).toBe(false);
  });

  it('in the form_post response mode, the error is posted to the app', async () => {
    okta.failTokenRequests(502);
    const c = checks();
    const outcome = await drive(server, okta, cookieJar(), await authorizationUrl(c, { login_hint: alice, response_mode: 'form_post' }), { username: alice });
    expect(outcome.formPost?.action).toBe(redirectUri);
    expect(outcome.formPost?.fields).toMatchObject({ error: 'temporarily_unavailable', state: c.state, iss: server.issuer });
    expect(outcome.formPost?.fields.code).toBeUndefined();
  });

  it('through the upstream chooser (no login_hint), from a pushed request: answered once, then used up', async () => {
    okta.failTokenRequests(500);
    const c = checks();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri,
      scope: 'openid read-data',
      code_challenge: await client.calculatePKCECodeChallenge(c.verifier),
      code_challenge_method: 'S256',
      state: c.state,
    });
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, url, { username: alice });
    const chooser = outcome.hops.find((hop) => hop.startsWith(`${server.url}/login?return_to=`));
    expect(chooser).toBeDefined();
    expect(Object.fromEntries(redirectParams(outcome, redirectUri))).toMatchObject({ error: 'temporarily_unavailable', state: c.state, iss: server.issuer });
    // The request was answered: neither its sign-in nor its request_uri goes anywhere now.
    const continued = await jar.fetch(new URL(new URL(chooser!).searchParams.get('return_to')!, server.url));
    expect(continued.status).toBe(400);
    expect(continued.headers.get('location')).toBeNull();
    const reload = await jar.fetch(url);
    expect(reload.status).toBe(400);
    expect(await reload.text()).toContain('already been used');
  });

  it('an upstream unreachable as the sign-in starts: the app hears it too, from /authorize and from the chooser', async () => {
    const hinted = checks();
    const direct = await drive(server, okta, cookieJar(), await authorizationUrl(hinted, { login_hint: 'dan@down.example' }), { username: 'dan@down.example' });
    expect(Object.fromEntries(redirectParams(direct, redirectUri))).toMatchObject({ error: 'temporarily_unavailable', state: hinted.state, iss: server.issuer });

    const chosen = checks();
    const jar = cookieJar();
    const start = await jar.fetch(await authorizationUrl(chosen));
    expect(start.status).toBe(303);
    const returnTo = new URL(start.headers.get('location')!, server.url).searchParams.get('return_to')!;
    const failed = await jar.fetch(`${server.url}/login/down?return_to=${encodeURIComponent(returnTo)}`);
    expect(failed.status).toBe(303);
    const location = new URL(failed.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'temporarily_unavailable', state: chosen.state, iss: server.issuer });

    // Without an app waiting: the 502 page.
    const page = await cookieJar().fetch(`${server.url}/login/down?return_to=%2Faccount`);
    expect(page.status).toBe(502);
    expect(page.headers.get('location')).toBeNull();
  });

  it('a sign-in for Consulate\'s own pages (no app waiting) keeps the 502 page', async () => {
    okta.failTokenRequests(500);
    for (const page of ['/account', '/session']) {
      const jar = cookieJar();
      const start = await jar.fetch(`${server.url}/login/okta?return_to=${encodeURIComponent(page)}`);
      expect(start.status).toBe(303);
      const response = await jar.fetch(await okta.login(start.headers.get('location') as string, alice));
      expect(response.status).toBe(502);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('Sign-in unavailable');
      expect(jar.cookies.has('consulate_session')).toBe(false);
    }
  });
});
