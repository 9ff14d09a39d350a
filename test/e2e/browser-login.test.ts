// A person in a real browser (Debian Chromium): home-realm discovery → the upstream's login and
// consent pages → back at Consulate, signed in. Cookies, redirects and CSP as a browser enforces them.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { freePort } from './support/browser.ts';
import { browserTest, launchChromium } from './support/chromium.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

describe('browser login through an upstream', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: 'browser-test-secret-0123456789abc', redirect_uris: [`${base}/callback/okta`] }] });
    server = await startConsulate({
      port,
      env: { OKTA_SECRET: 'browser-test-secret-0123456789abc' },
      files: {
        'upstreams/okta.yaml': ['id: okta', 'kind: okta', 'name: Example Corp (Okta)', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}', 'scopes: [openid, profile, email, groups]', 'email_domains: [example.com]'].join('\n'),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await okta?.close();
  });

  browserTest('e-mail → upstream login → consent → signed in at Consulate', async () => {
    chromium = await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('Work e-mail').fill('alice@example.com');
    await page.getByRole('button', { name: 'Continue' }).click();

    // At the upstream: its own origin, the username pre-filled from login_hint.
    await page.waitForURL((url) => url.href.startsWith(okta.url));
    expect(await page.locator('input[name=username]').inputValue()).toBe('alice@example.com');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Accept' }).click();

    await page.waitForURL(`${base}/session`);
    await expect(page.getByRole('heading', { name: 'Signed in' }).isVisible()).resolves.toBe(true);
    const text = await page.locator('main').innerText();
    expect(text).toContain('alice@example.com');
    expect(text).toContain('Example Corp (Okta)');
    const cookies = await page.context().cookies(base);
    const session = cookies.find((c) => c.name === 'consulate_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    // Sign out through the page's own form (CSRF token included), back to the login page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}/session`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.close();
  });
});
