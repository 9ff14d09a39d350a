// RP-initiated logout: openid-client builds the end-session URL; only registered
// post_logout_redirect_uris are followed; without a hint for this session the person confirms.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieJar } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import type { Upstream } from './support/upstreams.ts';

const redirectUri = 'https://app.example.test/callback';
const signedOut = 'https://app.example.test/signed-out';

describe('RP-initiated logout', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let config: client.Configuration;
  const alice = 'alice@example.com';

  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta());
    config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  /** A signed-in browser and the ID token the app got. */
  async function signIn(): Promise<{ jar: Jar; idToken: string }> {
    const jar = cookieJar();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      login_hint: alice,
    });
    const outcome = await drive(server, okta, jar, url, { username: alice });
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
    return { jar, idToken: tokens.id_token! };
  }
  const signedIn = async (jar: Jar) => (await jar.fetch(`${server.url}/session`)).status === 200;

  it('discovery names the end_session_endpoint', () => {
    expect(config.serverMetadata().end_session_endpoint).toBe(`${server.issuer}/end-session`);
  });

  it('with an id_token_hint for this session: signed out at once, back at the registered URI with state', async () => {
    const { jar, idToken } = await signIn();
    expect(await signedIn(jar)).toBe(true);
    const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: signedOut, state: 'bye' });
    const response = await jar.fetch(url);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${signedOut}?state=bye`);
    expect(await signedIn(jar)).toBe(false);
    expect((await server.deps.store.audit.list()).some((r) => r.event === 'session.ended')).toBe(true);
  });

  it('an unregistered post_logout_redirect_uri: an error page, no redirect, still signed in', async () => {
    const { jar, idToken } = await signIn();
    for (const uri of ['https://evil.example/', `${signedOut}/`, `${signedOut}?x=1`, redirectUri]) {
      const response = await jar.fetch(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: uri }));
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
    // Without a hint or client_id, no client names the URI: refused too.
    const bare = await jar.fetch(`${server.url}/end-session?post_logout_redirect_uri=${encodeURIComponent(signedOut)}`);
    expect(bare.status).toBe(400);
    expect(await signedIn(jar)).toBe(true);
  });

  it('a forged or foreign id_token_hint is refused', async () => {
    const { jar, idToken } = await signIn();
    const [h, p, s] = idToken.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'someone-else' })).toString('base64url')}.${s}`;
    const response = await jar.fetch(client.buildEndSessionUrl(config, { id_token_hint: forged }));
    expect(response.status).toBe(400);
    expect(await signedIn(jar)).toBe(true);
  });

  it('without a hint the person confirms; the confirmation needs the CSRF token', async () => {
    const { jar } = await signIn();
    const page = await jar.fetch(`${server.url}/end-session?client_id=web-app&post_logout_redirect_uri=${encodeURIComponent(signedOut)}&state=s2`);
    expect(page.status).toBe(200);
    const fields = hiddenFields(await page.text());
    const post = (body: Record<string, string>) => jar.fetch(`${server.url}/end-session/confirm`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const { csrf: _csrf, ...withoutCsrf } = fields;
    expect((await post(withoutCsrf)).status).toBe(403);
    expect(await signedIn(jar)).toBe(true);
    // A tampered return address in the confirmation is checked again.
    expect((await post({ ...fields, post_logout_redirect_uri: 'https://evil.example/' })).status).toBe(400);
    const done = await post(fields);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${signedOut}?state=s2`);
    expect(await signedIn(jar)).toBe(false);
  });

  it('a browser that is not signed in is simply sent back', async () => {
    const response = await fetch(`${server.url}/end-session?client_id=web-app&post_logout_redirect_uri=${encodeURIComponent(signedOut)}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(signedOut);
  });
});
