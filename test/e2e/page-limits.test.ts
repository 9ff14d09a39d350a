// Page rate limits (issue 17 §1): sign-ins started at an upstream per browser (its cookie) and per
// source address (any browser, with or without a cookie), consent answers per browser. Over a limit
// the browser gets a 429 page with Retry-After, never a redirect; each limit reached is one receipt.
// Behind a trusted proxy, so each case has its own source address (X-Forwarded-For).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import type { TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const alice = 'alice@example.com';
const consulateYaml = [
  'listen: { host: 127.0.0.1, port: 0 }',
  'keys: { reload_seconds: 0.05 }',
  'log: { level: info }',
  'http:',
  '  trust_proxy: [127.0.0.1, "::1"]',
  'rate_limits:',
  '  sign_in_pages: { max: 3, window_seconds: 300 }',
  '  address_sign_in_pages: { max: 8, window_seconds: 300 }',
  '  consent_pages: { max: 2, window_seconds: 300 }',
  '',
].join('\n');

type Page = { status: number; location: string | null; retryAfter: string | null; html: string };
const pageOf = async (response: Response): Promise<Page> => ({ status: response.status, location: response.headers.get('location'), retryAfter: response.headers.get('retry-after'), html: await response.text() });

const expectLimitPage = (page: Page) => {
  expect(page.status, page.html.slice(0, 300)).toBe(429);
  expect(page.location).toBeNull();
  expect(Number(page.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(page.html).toContain('<title>Too many requests');
  expect(page.html).toMatch(/Please wait \d+ minutes?/);
};

describe('page rate limits', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { 'consulate.yaml': consulateYaml } }));
  }, 60_000);
  afterAll(async () => stop?.());

  /** A browser that already has its Consulate cookie (it looked at the sign-in page). */
  const browser = async (from: string): Promise<Jar> => {
    const jar = cookieJar();
    await jar.fetch(`${server.url}/login`, { headers: { 'x-forwarded-for': from } });
    expect(jar.cookies.has('consulate_browser')).toBe(true);
    return jar;
  };
  const signIn = async (jar: Jar, from: string) => pageOf(await jar.fetch(`${server.url}/login/okta?return_to=/session`, { headers: { 'x-forwarded-for': from } }));
  const receipts = async () => (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'rate_limit.reached').map((r) => r.details);

  it('sign-ins per browser: the 4th start is a 429 page, at /login/… and at /authorize alike; another browser on that address goes on', async () => {
    const from = '198.51.100.40';
    const jar = await browser(from);
    for (let i = 0; i < 3; i++) {
      const started = await signIn(jar, from);
      expect(started.status).toBe(303);
      expect(started.location).toMatch(new RegExp(`^${okta.url}`));
    }
    expectLimitPage(await signIn(jar, from));
    // An application sending the person to sign in gets the same page, not a redirect to the upstream.
    const url = new URL(`${server.url}/authorize`);
    for (const [k, v] of Object.entries({ client_id: 'web-app', response_type: 'code', redirect_uri: 'https://app.example.test/callback', scope: 'openid read-data', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', login_hint: alice })) url.searchParams.set(k, v);
    expectLimitPage(await pageOf(await jar.fetch(url, { headers: { 'x-forwarded-for': from } })));

    const other = await browser(from);
    expect((await signIn(other, from)).status).toBe(303);
    await expect.poll(receipts).toEqual([expect.objectContaining({ limit: 'sign_in_pages', key_kind: 'browser' })]);
    // The log names the browser by a hash, never by its cookie.
    const line = server.logs.find((entry) => entry.msg === 'rate limit reached' && entry.limit === 'sign_in_pages');
    expect(typeof line?.browser).toBe('string');
    expect(server.rawLogs()).not.toContain(jar.cookies.get('consulate_browser'));
  });

  it('sign-ins per address: browsers that send no cookie count against their address; then every browser there waits, other addresses do not', async () => {
    const from = '198.51.100.41';
    const cookieless = () => fetch(`${server.url}/login/okta?return_to=/session`, { redirect: 'manual', headers: { 'x-forwarded-for': from } }).then(pageOf);
    for (let i = 0; i < 8; i++) expect((await cookieless()).status).toBe(303);
    expectLimitPage(await cookieless());
    expectLimitPage(await signIn(await browser(from), from));
    const elsewhere = '198.51.100.42';
    expect((await signIn(await browser(elsewhere), elsewhere)).status).toBe(303);
    await expect.poll(async () => (await receipts()).filter((d) => d.limit === 'address_sign_in_pages')).toEqual([expect.objectContaining({ key_kind: 'address' })]);
  });

  it('consent answers per browser: the 3rd is a 429 page', async () => {
    const jar = cookieJar();
    const url = new URL(`${server.url}/authorize`);
    for (const [k, v] of Object.entries({ client_id: 'web-app', response_type: 'code', redirect_uri: 'https://app.example.test/callback', scope: 'openid read-data', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', login_hint: alice, prompt: 'consent' })) url.searchParams.set(k, v);
    const outcome = await drive(server, okta, jar, url, { username: alice, consent: 'leave' });
    const form = hiddenFields(outcome.page?.html ?? '');
    expect(form.csrf).toBeTruthy();
    const answer = async () => pageOf(await jar.fetch(`${server.url}/authorize/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...form, decision: 'deny' }) }));
    // The first answer goes back to the application; the second finds the request answered.
    const first = await answer();
    expect(first.status).toBe(303);
    expect(first.location).toContain('error=access_denied');
    expect((await answer()).status).toBe(400);
    expectLimitPage(await answer());
    await expect.poll(async () => (await receipts()).filter((d) => d.limit === 'consent_pages')).toEqual([expect.objectContaining({ key_kind: 'browser' })]);
  });
});
