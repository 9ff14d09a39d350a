// Forged upstream ID tokens: the stand-in's token response is rewritten on its way to Consulate
// (re-signed with the stand-in's own key, or with a foreign one), as a compromised or confused
// upstream, or a network attacker without TLS, would answer. Each login must end on the generic
// error page with no session, no person and no linked account.
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cookieJar, freePort } from './support/browser.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { accountFor, footprint } from './support/rows.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

const secret = 'attack-test-secret-0123456789abcdefgh';

describe('forged upstream ID tokens are refused', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let base: string;
  let rewritten = 0;
  const person = (name: string) => okta.accounts.find((a) => a.username.startsWith(`${name}@`))!;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`${base}/callback/okta`] }] });
    server = await startConsulate({
      port,
      env: { OKTA_SECRET: secret },
      files: { 'upstreams/okta.yaml': ['id: okta', 'kind: okta', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}'].join('\n') },
    });
  });
  afterEach(() => okta.interceptTokenResponses(undefined));
  afterAll(async () => {
    await server?.stop();
    await okta?.close();
  });

  /** From now on the stand-in's ID tokens get `change`d claims, signed with `key` (default: its own). */
  function forge(change: (claims: JWTPayload) => JWTPayload, key: Promise<CryptoKey | Uint8Array> = importJWK(okta.signingKey, 'RS256')) {
    rewritten = 0;
    okta.interceptTokenResponses(async (body) => {
      const idToken = body.id_token as string;
      const { kid } = decodeProtectedHeader(idToken);
      rewritten += 1;
      return { ...body, id_token: await new SignJWT(change(decodeJwt(idToken))).setProtectedHeader({ alg: 'RS256', kid: kid! }).sign(await key) };
    });
  }

  async function logIn(name: string) {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/okta?return_to=/session`);
    expect(start.status).toBe(303);
    const response = await jar.fetch(await okta.login(start.headers.get('location') as string, person(name).username));
    return { jar, response, html: await response.text() };
  }

  async function expectRefused(why: RegExp) {
    const before = await footprint(server);
    const { jar, response, html } = await logIn('bob');
    expect(rewritten).toBe(1);
    expect(response.status).toBe(400);
    expect(html).toContain('Sign-in could not be completed');
    expect(html).not.toMatch(/\bat .+\.(ts|js):\d+|Error:/);
    expect(jar.cookies.has('consulate_session')).toBe(false);
    expect((await jar.fetch(`${base}/session`)).status).toBe(303);
    expect(await footprint(server)).toEqual(before);
    expect(accountFor(server, person('bob').id)).toBeUndefined();
    const failure = server.logs.filter((l) => l.msg === 'upstream login failed').at(-1);
    expect(String(failure?.detail)).toMatch(why);
  }

  it('control: the same token re-signed with the upstream\'s own key, unchanged, signs the person in', async () => {
    forge((claims) => claims);
    const { jar, response } = await logIn('alice');
    expect(rewritten).toBe(1);
    expect(response.status).toBe(303);
    expect((await jar.fetch(`${base}/session`)).status).toBe(200);
    expect(accountFor(server, person('alice').id)?.orig_iss).toBe(okta.issuer);
  });

  it('an ID token for another audience', async () => {
    forge((claims) => ({ ...claims, aud: 'some-other-client' }));
    await expectRefused(/"aud" \(audience\)/);
  });

  it('an expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    forge((claims) => ({ ...claims, iat: now - 7200, exp: now - 3600 }));
    await expectRefused(/"exp"|timestamp/);
  });

  it('an ID token signed by a key that is not in the upstream\'s JWKS (same kid)', async () => {
    const foreign = generateKeyPair('RS256').then((pair) => pair.privateKey);
    forge((claims) => claims, foreign);
    await expectRefused(/signature/i);
  });

  it('a key rotation at the upstream: the next sign-in, signed by a key published a moment ago, goes through at once', async () => {
    // A first sign-in: Consulate has fetched and cached the upstream's keys.
    forge((claims) => claims);
    expect((await logIn('alice')).response.status).toBe(303);
    // The upstream publishes a new key and signs with it from now on.
    const rotated = await generateKeyPair('RS256', { extractable: true });
    const kid = `rotated-${Date.now()}`;
    const jwk = { ...(await exportJWK(rotated.publicKey)), kid, alg: 'RS256', use: 'sig' };
    okta.interceptJwks((body) => ({ keys: [...(body.keys as unknown[]), jwk] }));
    try {
      rewritten = 0;
      okta.interceptTokenResponses(async (body) => {
        rewritten += 1;
        const claims = decodeJwt(body.id_token as string);
        return { ...body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(rotated.privateKey) };
      });
      const { jar, response } = await logIn('alice');
      expect(rewritten).toBe(1);
      expect(response.status).toBe(303);
      expect((await jar.fetch(`${base}/session`)).status).toBe(200);
    } finally {
      okta.interceptJwks(undefined);
    }
  });

  it('an ID token signed under a kid the upstream never published is refused', async () => {
    const stranger = await generateKeyPair('RS256');
    okta.interceptTokenResponses(async (body) => {
      rewritten += 1;
      return { ...body, id_token: await new SignJWT(decodeJwt(body.id_token as string)).setProtectedHeader({ alg: 'RS256', kid: 'never-published' }).sign(stranger.privateKey) };
    });
    rewritten = 0;
    await expectRefused(/no applicable|JWKSNoMatchingKey|matching key/i);
  });

  it('an ID token with another login\'s nonce', async () => {
    forge((claims) => ({ ...claims, nonce: 'a-nonce-from-another-login' }));
    await expectRefused(/"nonce"/);
  });
});

describe('an upstream that fails', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`${base}/callback/okta`] }] });
    server = await startConsulate({
      port,
      env: { OKTA_SECRET: secret },
      files: { 'upstreams/okta.yaml': ['id: okta', 'kind: okta', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}'].join('\n') },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await okta?.close();
  });

  it.each([500, 503])('a token endpoint answering %i is a gateway error (502), not the person\'s fault; no session, nothing stored', async (status) => {
    okta.failTokenRequests(status);
    try {
      const before = await footprint(server);
      const jar = cookieJar();
      const start = await jar.fetch(`${base}/login/okta?return_to=/session`);
      const response = await jar.fetch(await okta.login(start.headers.get('location') as string, okta.accounts[0]!.username));
      const html = await response.text();
      expect(response.status).toBe(502);
      expect(html).toContain('Sign-in unavailable');
      expect(html).not.toMatch(/\bat .+\.(ts|js):\d+|Error:/);
      expect(jar.cookies.has('consulate_session')).toBe(false);
      expect(await footprint(server)).toEqual(before);
    } finally {
      okta.failTokenRequests(undefined);
    }
  });
});
