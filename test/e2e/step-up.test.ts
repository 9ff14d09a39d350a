// Step-up at the upstream: when a login asks for acr_values or max_age, what the upstream returns
// (acr, auth_time in its signed ID token) is checked before any session exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishBrowserLogin, startBrowserLogin } from '../../src/federation/browser-login.ts';
import { hashId, randomId } from '../../src/oauth/ids.ts';
import { UpstreamError } from '../../src/federation/connector.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { freePort } from './support/browser.ts';
import { testClock } from './support/clients.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

describe('step-up requirements on upstream logins', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let alice: string;
  const clock = testClock();

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: 'step-up-secret-0123456789abcdefgh', redirect_uris: [`${base}/callback/okta`] }] });
    alice = okta.accounts.find((a) => a.username.startsWith('alice@'))!.username;
    server = await startConsulate({
      port,
      now: clock.now,
      env: { OKTA_SECRET: 'step-up-secret-0123456789abcdefgh' },
      files: { 'upstreams/okta.yaml': ['id: okta', 'kind: okta', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}'].join('\n') },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await okta?.close();
  });

  async function attempt(requested: { acrValues?: string; maxAge?: number }, upstreamAcr?: string, secondsBeforeReturn = 0) {
    const browserId = randomId();
    const url = await startBrowserLogin(server.deps, 'okta', { browserId, visitor: { browser: hashId(browserId), source: '127.0.0.1' }, returnTo: '/session', ...requested });
    expect(url.searchParams.get('acr_values')).toBe(requested.acrValues ?? null);
    expect(url.searchParams.get('max_age')).toBe(requested.maxAge === undefined ? null : String(requested.maxAge));
    const callback = await okta.login(url, alice, upstreamAcr ? { acr: upstreamAcr } : {});
    clock.advance(secondsBeforeReturn);
    return finishBrowserLogin(server.deps, 'okta', new URL(callback), browserId);
  }

  it('the requested acr, returned by the upstream: signed in, acr and amr carried', async () => {
    const result = await attempt({ acrValues: 'mfa' }, 'mfa');
    expect(result.claims).toMatchObject({ acr: 'mfa', amr: ['pwd', 'mfa'] });
  });

  it('an upstream that answers with a weaker acr: refused, and no session is created', async () => {
    const sessionsBefore = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').length;
    await expect(attempt({ acrValues: 'mfa' }, 'pwd')).rejects.toBeInstanceOf(UpstreamError);
    expect((await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream')).toHaveLength(sessionsBefore);
  });

  it('max_age: a fresh authentication passes; the returned auth_time is what counts', async () => {
    const result = await attempt({ maxAge: 60 });
    expect(typeof result.claims.auth_time).toBe('number');
    expect(Math.abs((result.claims.auth_time as number) - clock.now())).toBeLessThan(60);
  });

  it('max_age: an authentication older than max_age by the time it is checked is refused', async () => {
    await expect(attempt({ maxAge: 60 }, undefined, 120)).rejects.toThrow(/older than max_age/);
  });
});
