// The authorization endpoint driven by openid-client as the relying party: login through a real
// stand-in Okta, consent, the code back with iss and state, every response mode, PAR, and the
// requests that must end on an error page rather than at a redirect.
import * as client from 'openid-client';
import { hashId } from '../../src/oauth/ids.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cookieJar } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { drive, redirectParams, startWithOkta, type Jar } from './support/authorize.ts';
import type { Upstream } from './support/upstreams.ts';

const redirectUri = 'https://app.example.test/callback';
const api = 'https://api.demo.example';

describe('/authorize with a real relying party', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let config: client.Configuration;
  let jar: Jar;
  const alice = 'alice@example.com';

  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta());
    config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });
  beforeEach(() => {
    jar = cookieJar();
  });

  async function start(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email read-data',
      resource: api,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      login_hint: alice,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  it('discovery names the authorization endpoint, PAR, S256 only, the iss parameter and the response modes', () => {
    const metadata = config.serverMetadata();
    expect(metadata.authorization_endpoint).toBe(`${server.issuer}/authorize`);
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${server.issuer}/par`);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.response_modes_supported).toEqual(expect.arrayContaining(['query', 'form_post', 'jwt', 'query.jwt', 'form_post.jwt']));
  });

  it('login_hint → upstream → consent → code with state and iss; openid-client redeems it', async () => {
    const { url, verifier, state, nonce } = await start();
    const outcome = await drive(server, okta, jar, url, { username: alice });
    expect(outcome.consentShown).toBe(true);
    const params = redirectParams(outcome, redirectUri);
    expect(params.get('state')).toBe(state);
    expect(params.get('iss')).toBe(server.issuer);
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: server.issuer, aud: 'web-app', nonce, email: alice });
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile', 'read-data']);
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('a remembered consent is not asked again; prompt=consent asks anyway; a wider request asks again', async () => {
    await drive(server, okta, jar, (await start()).url, { username: alice });
    const again = await drive(server, okta, jar, (await start()).url, { username: alice });
    expect(again.consentShown).toBe(false);
    expect(redirectParams(again, redirectUri).get('code')).toBeTruthy();

    const forced = await drive(server, okta, jar, (await start({ prompt: 'consent' })).url, { username: alice, consent: 'leave' });
    expect(forced.consentShown).toBe(true);
    expect(forced.page!.html).toContain('Read your data');

    const wider = await drive(server, okta, jar, (await start({ scope: 'openid read-data write-data' })).url, { username: alice, consent: 'leave' });
    expect(wider.consentShown).toBe(true);
    expect(wider.page!.html).toContain('Change your data');
  });

  it('allowing one tool call is no standing consent to the API: a later request for the API alone asks again', async () => {
    const bob = 'bob@example.com'; // a person with no consent yet
    const details = JSON.stringify([{ type: 'tool', tool: 'send_invoice', actions: ['call'] }]);
    const once = await drive(server, okta, jar, (await start({ login_hint: bob, scope: 'openid', authorization_details: details })).url, { username: bob });
    expect(once.consentShown).toBe(true);
    expect(redirectParams(once, redirectUri).get('code')).toBeTruthy();

    const later = await drive(server, okta, jar, (await start({ login_hint: bob, scope: 'openid' })).url, { username: bob, consent: 'leave' });
    expect(later.consentShown).toBe(true);
    expect(later.page!.html).toContain('Access it on your behalf');
  });

  it('the consent page lists what is asked in words, including authorization details', async () => {
    const details = JSON.stringify([{ type: 'tool', tool: 'send_invoice', actions: ['call'] }]);
    const outcome = await drive(server, okta, jar, (await start({ authorization_details: details })).url, { username: alice, consent: 'leave' });
    const html = outcome.page!.html;
    expect(html).toContain('Allow Example Web App?');
    expect(html).toContain('See your e-mail address');
    expect(html).toContain('Read your data');
    expect(html).toContain('Call one tool of the demo API');
    expect(html).toContain('send_invoice');
  });

  it('deny → access_denied to the redirect URI, with state and iss, and no code', async () => {
    const { url, state } = await start({ prompt: 'consent' });
    const params = redirectParams(await drive(server, okta, jar, url, { username: alice, consent: 'deny' }), redirectUri);
    expect(Object.fromEntries(params)).toMatchObject({ error: 'access_denied', state, iss: server.issuer });
    expect(params.get('code')).toBeNull();
  });

  it('without login_hint the browser goes to the login page, and home-realm discovery takes it on', async () => {
    const { url } = await start({ login_hint: '' });
    url.searchParams.delete('login_hint');
    const outcome = await drive(server, okta, jar, url, { username: alice });
    expect(new URL(outcome.hops[0]!).pathname).toBe('/login');
    expect(redirectParams(outcome, redirectUri).get('code')).toBeTruthy();
  });

  it('prompt=none: login_required without a session; consent_required for what was never granted; a code when all is in place', async () => {
    const { url, state } = await start({ prompt: 'none' });
    const first = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
    expect(Object.fromEntries(first)).toMatchObject({ error: 'login_required', state, iss: server.issuer });

    await drive(server, okta, jar, (await start({ scope: 'openid' })).url, { username: alice });
    const consent = redirectParams(await drive(server, okta, jar, (await start({ prompt: 'none', scope: 'openid reports.read', resource: 'https://reports.example' })).url, { username: alice }), redirectUri);
    expect(consent.get('error')).toBe('consent_required');
    const silent = redirectParams(await drive(server, okta, jar, (await start({ prompt: 'none', scope: 'openid' })).url, { username: alice }), redirectUri);
    expect(silent.get('code')).toBeTruthy();
  });

  it('prompt=login sends a signed-in person back to the upstream with prompt=login', async () => {
    await drive(server, okta, jar, (await start()).url, { username: alice });
    const seen: URL[] = [];
    const outcome = await drive(server, okta, jar, (await start({ prompt: 'login' })).url, { username: alice, onUpstream: (u) => seen.push(u) });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.searchParams.get('prompt')).toBe('login');
    expect(redirectParams(outcome, redirectUri).get('code')).toBeTruthy();
  });

  it('step-up: acr_values the session lacks → back to the upstream with acr_values and prompt=login; the code carries the new acr', async () => {
    const { url: plain } = await start();
    await drive(server, okta, jar, plain, { username: alice, upstreamOptions: { acr: 'pwd' } });
    const weakSession = jar.cookies.get('consulate_session')!;
    const seen: URL[] = [];
    const { url, verifier, state, nonce } = await start({ acr_values: 'mfa' });
    const outcome = await drive(server, okta, jar, url, { username: alice, onUpstream: (u) => seen.push(u), upstreamOptions: { acr: 'mfa' } });
    expect(seen[0]!.searchParams.get('acr_values')).toBe('mfa');
    expect(seen[0]!.searchParams.get('prompt')).toBe('login');
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()).toMatchObject({ acr: 'mfa', amr: ['pwd', 'mfa'] });
    // The weaker session the step-up replaced is gone from the server, not just from the browser.
    expect(jar.cookies.get('consulate_session')).not.toBe(weakSession);
    expect(await server.deps.store.logins.findSession(hashId(weakSession), server.deps.now())).toBeUndefined();
  });

  it('step-up refused: an upstream that answers the step-up with a weaker acr gives an error page, and nothing is issued', async () => {
    const { url } = await start({ acr_values: 'mfa' });
    const granted = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'authorization.granted').length;
    const before = await granted();
    const outcome = await drive(server, okta, jar, url, { username: alice, upstreamOptions: { acr: 'pwd' } });
    expect(outcome.location).toBeUndefined();
    expect(outcome.page!.status).toBe(400);
    expect(outcome.page!.html).toContain('Sign-in failed');
    expect(await granted()).toBe(before);
  });

  it('max_age: a session older than max_age steps up; the upstream gets max_age', async () => {
    await drive(server, okta, jar, (await start()).url, { username: alice });
    await new Promise((r) => setTimeout(r, 1100));
    const seen: URL[] = [];
    const outcome = await drive(server, okta, jar, (await start({ max_age: '0' })).url, { username: alice, onUpstream: (u) => seen.push(u) });
    expect(seen[0]!.searchParams.get('max_age')).toBe('0');
    expect(redirectParams(outcome, redirectUri).get('code')).toBeTruthy();
  });

  it('response_mode=form_post: an auto-submitting form to the redirect URI, script allowed only by nonce', async () => {
    const { url, verifier, state, nonce } = await start({ response_mode: 'form_post' });
    const outcome = await drive(server, okta, jar, url, { username: alice });
    expect(outcome.formPost!.action).toBe(redirectUri);
    expect(outcome.formPost!.fields).toMatchObject({ state, iss: server.issuer });
    expect(outcome.formPost!.csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(outcome.formPost!.csp).toContain("frame-ancestors 'none'");
    const request = new Request(redirectUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(outcome.formPost!.fields) });
    const tokens = await client.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()!.nonce).toBe(nonce);
  });

  it('response_mode=jwt (JARM): openid-client verifies the signed response and redeems the code', async () => {
    const jarm = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    client.useJwtResponseMode(jarm);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(jarm, {
      redirect_uri: redirectUri,
      scope: 'openid read-data',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      login_hint: alice,
    });
    expect(url.searchParams.get('response_mode')).toBe('jwt');
    const outcome = await drive(server, okta, jar, url, { username: alice });
    const params = redirectParams(outcome, redirectUri);
    expect([...params.keys()]).toEqual(['response']);
    const tokens = await client.authorizationCodeGrant(jarm, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();
  });

  it('PAR: openid-client pushes the request; /authorize needs only client_id and request_uri', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri,
      scope: 'openid read-data',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      login_hint: alice,
    });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const outcome = await drive(server, okta, jar, url, { username: alice });
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();

    // The request_uri was used once; a second visit is an error page, never a redirect.
    const replay = await drive(server, okta, cookieJar(), url, { username: alice });
    expect(replay.location).toBeUndefined();
    expect(replay.page!.status).toBe(400);
  });

  it('the pending request is bound to its browser: another browser gets an error page for its id', async () => {
    const outcome = await drive(server, okta, jar, (await start({ prompt: 'consent' })).url, { username: alice, consent: 'leave' });
    const id = /name="id" value="([^"]+)"/.exec(outcome.page!.html)![1]!;
    const other = cookieJar();
    const response = await other.fetch(`${server.url}/authorize/continue?id=${encodeURIComponent(id)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('pages are never framed or cached', async () => {
    const outcome = await drive(server, okta, jar, (await start({ prompt: 'consent' })).url, { username: alice, consent: 'leave' });
    expect(outcome.page!.status).toBe(200);
    const response = await jar.fetch(`${server.url}/account`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
