// A person in a real browser (Debian Chromium) uses the demo app: home-realm discovery at
// Consulate → the stand-in Okta's login → Consulate's consent page → back at the demo app,
// which shows the ID token and the Passport it received; then a refresh and a sign-out.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startDemoApp, type DemoApp } from '../../src/demo/demo-app.tsx';
import { startWithOkta } from './support/authorize.ts';
import { browserTest, launchChromium } from './support/chromium.ts';
import type { TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const demoAppClient = [
  'client_id: demo-app',
  'name: Demo App',
  'token_endpoint_auth_method: none',
  'grant_types: [authorization_code, refresh_token]',
  'redirect_uris: [http://127.0.0.1:8090/callback]',
  'post_logout_redirect_uris: [http://127.0.0.1:8090/]',
  'resources:',
  '  https://api.demo.example:',
  '    scopes: [read-data]',
].join('\n');

describe('the demo app in a real browser', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let app: DemoApp;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;

  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { 'clients/demo-app.yaml': demoAppClient } }));
    // Port 0: the registered loopback redirect URI matches on any port (RFC 8252 §7.3).
    app = await startDemoApp({ issuer: server.issuer, client: server.config.clients.get('demo-app')!, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await stop?.();
  });

  browserTest('sign in → e-mail → upstream → consent → the demo app shows the tokens; refresh; sign out', async () => {
    chromium = await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Sign in with Consulate' }).click();

    // Consulate's login page (PAR brought the request; no login_hint): home-realm discovery.
    await page.waitForURL((url) => url.href.startsWith(`${server.url}/login`));
    await page.getByLabel('Work e-mail').fill('alice@example.com');
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.waitForURL((url) => url.href.startsWith(okta.url));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Accept' }).click();

    // Consent at Consulate, in words.
    await page.getByRole('heading', { name: 'Allow Demo App?' }).waitFor();
    const consent = await page.locator('main').innerText();
    expect(consent).toContain('See your e-mail address');
    expect(consent).toContain('Read your data');
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the demo app with tokens.
    await page.waitForURL(app.url);
    await page.getByRole('heading', { name: 'ID token claims' }).waitFor();
    const idClaims = JSON.parse(await page.getByLabel('ID token claims').innerText()) as Record<string, unknown>;
    expect(idClaims).toMatchObject({ iss: server.issuer, aud: 'demo-app', email: 'alice@example.com' });
    const passport = JSON.parse(await page.getByLabel('Passport claims').innerText()) as Record<string, unknown>;
    expect(passport).toMatchObject({ iss: server.issuer, aud: 'https://api.demo.example', client_id: 'demo-app', sub: idClaims.sub });
    expect(String(passport.scope).split(' ')).toContain('read-data');

    // At phone width the raw tokens wrap inside their box: nothing runs out of it or makes the page scroll sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    const raw = page.getByLabel('Raw tokens');
    expect(await raw.evaluate((el) => el.scrollWidth - el.clientWidth)).toBe(0);
    expect(await page.locator('html').evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 720 });

    await page.getByRole('button', { name: 'Refresh tokens' }).click();
    await page.getByRole('heading', { name: 'Passport (access token) claims' }).waitFor();
    const refreshed = JSON.parse(await page.getByLabel('Passport claims').innerText()) as Record<string, unknown>;
    expect(refreshed.jti).not.toBe(passport.jti);
    expect(await page.getByRole('alert').count()).toBe(0);

    // Sign out: through Consulate's end-session endpoint and back to the app.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(app.url);
    await page.getByRole('button', { name: 'Sign in with Consulate' }).waitFor();
    await page.goto(`${server.url}/session`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.close();
  });
});
