// A PAR request_uri in the browser (RFC 9126 §4, FAPI 2.0): the browser that first presents it may
// reload /authorize with it until the authorization is answered; another browser may not; once the
// code is issued it is used up; a real expiry is worded as one. openid-client pushes as web-app;
// cookie jars play the browsers; the stand-in Okta signs the person in.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, redirectParams, startWithOkta } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { discover, testClock } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const redirectUri = 'https://app.example.test/callback';
const parTtl = 60;
const alice = 'alice@example.com';

describe('a PAR request_uri reloaded in the browser', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let config: client.Configuration;
  let stop: () => Promise<void>;
  const clock = testClock();

  beforeAll(async () => {
    const main = ['listen:', '  host: 127.0.0.1', '  port: 0', 'authorization:', `  par_ttl_seconds: ${parTtl}`, ''].join('\n');
    ({ server, okta, stop } = await startWithOkta({ now: clock.now, files: { 'consulate.yaml': main } }));
    config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterAll(async () => stop?.());

  async function push() {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri,
      scope: 'openid read-data',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    return { url, verifier, state };
  }
  const page = async (response: Response) => ({ status: response.status, location: response.headers.get('location'), html: await response.text() });

  it('the same browser may reload it until the code is issued; another browser may not; afterwards it is used up', async () => {
    const { url, verifier, state } = await push();
    const browser = cookieJar();
    // The first presentation and two reloads, all before signing in: each goes on to sign-in.
    const first = await page(await browser.fetch(url));
    expect(first.status).toBe(303);
    expect(first.location).toMatch(/^\/login\?return_to=/);
    for (let reload = 0; reload < 2; reload++) {
      const again = await page(await browser.fetch(url));
      expect(again.status).toBe(303);
      expect(again.location).toMatch(/^\/login\?return_to=/);
    }

    // Another browser: refused, as a page, never a redirect to the app.
    const other = await page(await cookieJar().fetch(url));
    expect(other.status).toBe(400);
    expect(other.location).toBeNull();
    expect(other.html).toContain('Request already used');
    expect(other.html).not.toContain('expired');

    // The first browser signs in from a reload; the code is issued and redeems.
    const outcome = await drive(server, okta, browser, url, { username: alice });
    const params = redirectParams(outcome, redirectUri);
    expect(params.get('state')).toBe(state);
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();

    // Now used up, even for the browser that used it.
    const after = await page(await browser.fetch(url));
    expect(after.status).toBe(400);
    expect(after.location).toBeNull();
    expect(after.html).toContain('This sign-in request has already been used.');

    // The first presentation's own sign-in, continued now, gets no second code.
    const returnTo = decodeURIComponent(/return_to=([^&]+)/.exec(first.location!)![1]!);
    const stale = await page(await browser.fetch(new URL(returnTo, server.url)));
    expect(stale.status).toBe(400);
    expect(stale.location).toBeNull();
    expect(stale.html).toContain('already been answered');
  });

  it('a request_uri past its expiry is worded as expired', async () => {
    const { url } = await push();
    const browser = cookieJar();
    expect((await browser.fetch(url)).status).toBe(303);
    clock.advance(parTtl + 1);
    try {
      const expired = await page(await browser.fetch(url));
      expect(expired.status).toBe(400);
      expect(expired.location).toBeNull();
      expect(expired.html).toContain('This sign-in request has expired; start again from the app.');
      expect(expired.html).not.toContain('already been used');
    } finally {
      clock.advance(-(parTtl + 1));
    }
  });
});
