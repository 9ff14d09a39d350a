// The pages people see, under an operator's branding (product name, logo, accent colour, support
// link): every kind of page in Chromium passes an axe-core scan (no serious or critical violation)
// at desktop width and at 375 px, with nothing running off the side; primary and secondary buttons
// side by side with a visible focus ring; the consent page and the inbox word the same request the
// same way. With a cookie jar: the stylesheet's caching and the pages' CSP, a reload that rebrands,
// /session leading on to the account and the inbox, and signing out from the account page.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApproval } from '../../src/consent/approvals.ts';
import { drive, hiddenFields, startWithOkta } from './support/authorize.ts';
import { seriousViolations } from './support/axe.ts';
import { cookieJar } from './support/browser.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import type { TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const api = 'https://api.demo.example';
const alice = 'alice@example.com';
const accent = '#0f766e';
const fixtureMain = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');
const branding = (logoUrl: string, name = 'Example Corp sign-in', colour = accent) =>
  `${fixtureMain}\nbranding:\n  product_name: ${name}\n  logo_url: ${logoUrl}\n  accent_color: "${colour}"\n  support_url: https://help.example.test/consulate\n`;

const deviceCli = ['client_id: device-cli', 'name: Device CLI', 'token_endpoint_auth_method: none', 'grant_types: [urn:ietf:params:oauth:grant-type:device_code]', 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n');

/** One tool call, as an MCP client or an agent asks for it. */
const toolCall = { type: 'tool', tool: 'add_note', actions: ['call'], arguments: { text: 'Buy milk <b>now</b>' } };

/** A loopback "CDN" for the logo, so the test sees whether the pages' CSP lets it load. */
async function startLogoServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" fill="#0f766e"/></svg>';
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(svg));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logo.svg`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('the pages people see', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let logo: Awaited<ReturnType<typeof startLogoServer>>;

  beforeAll(async () => {
    logo = await startLogoServer();
    ({ server, okta, stop } = await startWithOkta({ files: { 'consulate.yaml': branding(logo.url), 'clients/device-cli.yaml': deviceCli } }));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
    await logo?.close();
  });

  /** Scans the page at desktop width and at phone width: no serious axe violation, nothing wider than the screen. */
  async function checkPage(page: Page, kind: string): Promise<void> {
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 800 });
      expect(await seriousViolations(page), `${kind} at ${width} px`).toEqual([]);
      expect(await page.locator('html').evaluate((html) => html.scrollWidth), `${kind} at ${width} px is wider than the screen`).toBeLessThanOrEqual(width);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  /** The words of an ask as shown: the identity list and what is asked at the Demo API. */
  const askShown = async (scope: ReturnType<Page['locator']>) => ({
    identity: await scope.locator('ul').first().innerText(),
    atApi: await scope.getByRole('region', { name: 'Demo API' }).innerText(),
  });

  browserTest('every kind of page passes an accessibility scan at desktop and phone width, under the operator’s branding', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      // The app's redirect URI (loopback, any port): answered here, the code is not what this test is about.
      await chromium.context.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));

      // Sign-in choice, branded: name in the title and header, the logo loaded (the CSP allows its origin), the help link.
      await page.goto(`${server.url}/login`);
      expect(await page.title()).toBe('Sign in · Example Corp sign-in');
      expect(await page.locator('header').innerText()).toBe('Example Corp sign-in');
      expect(await page.locator('header img').evaluate((img) => (img as { complete: boolean }).complete && (img as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
      expect(await page.getByRole('link', { name: 'Help and support' }).getAttribute('href')).toBe('https://help.example.test/consulate');
      expect(await page.getByRole('button', { name: 'Continue' }).evaluate((b) => b.ownerDocument.defaultView!.getComputedStyle(b).backgroundColor)).toBe('rgb(15, 118, 110)');
      await checkPage(page, 'sign-in choice');

      // An error page.
      await page.goto(`${server.url}/login/nowhere`);
      expect(await page.getByRole('alert').innerText()).toBe('There is no such sign-in option.');
      await checkPage(page, 'error page');

      // Consent: sign in, then what the app asks, a tool call among it.
      const verifier = randomBytes(32).toString('base64url');
      const authorize = new URL(`${server.url}/authorize`);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: 'web-app',
        redirect_uri: 'http://127.0.0.1:9/callback',
        scope: 'openid email read-data',
        resource: api,
        authorization_details: JSON.stringify([toolCall]),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        state: 'pages',
        prompt: 'consent',
        login_hint: alice,
      }))
        authorize.searchParams.set(name, value);
      await page.goto(authorize.href);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Accept' }).click();
      await page.getByRole('heading', { name: 'Allow Example Web App?' }).waitFor();
      await checkPage(page, 'consent');
      const consentWords = await askShown(page.locator('main'));
      expect(consentWords.identity).toBe('Know who you are (your account id and the organisation you signed in with)\nSee your e-mail address');
      // The tool call by its name and its argument, escaped (no <b> element), not only "Read your data".
      const toolItem = page.getByRole('region', { name: 'Demo API' }).getByRole('listitem').nth(1);
      expect(await toolItem.innerText()).toContain('Call one tool of the demo API: add_note');
      expect(await toolItem.locator('dd').first().innerText()).toBe('Buy milk <b>now</b>');
      expect(await page.locator('main b').count()).toBe(0);

      // Allow and Deny side by side at both widths, Allow the filled one; the keyboard's focus is visible.
      const allow = page.getByRole('button', { name: 'Allow' });
      const deny = page.getByRole('button', { name: 'Deny' });
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 800 });
        const [a, d] = [(await allow.boundingBox())!, (await deny.boundingBox())!];
        expect(Math.abs(a.y - d.y), `buttons on one row at ${width} px`).toBeLessThan(2);
        expect(d.x).toBeGreaterThan(a.x + a.width);
      }
      expect(await allow.evaluate((b) => b.ownerDocument.defaultView!.getComputedStyle(b).backgroundColor)).toBe('rgb(15, 118, 110)');
      expect(await deny.evaluate((b) => b.ownerDocument.defaultView!.getComputedStyle(b).backgroundColor)).toBe('rgb(255, 255, 255)');
      await allow.focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Shift+Tab');
      expect(await allow.evaluate((b) => { const style = b.ownerDocument.defaultView!.getComputedStyle(b); return `${style.outlineStyle} ${style.outlineWidth}`; })).toBe('solid 3px');
      await allow.click();
      await page.waitForURL((url) => url.href.startsWith('http://127.0.0.1:9/callback?'));

      // Device code entry, then the device's request to approve, then its outcome.
      await page.goto(`${server.url}/device`);
      await page.getByLabel('Code').waitFor();
      await checkPage(page, 'device code entry');
      const started = (await (await fetch(`${server.url}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: 'device-cli', scope: 'read-data' }) })).json()) as { user_code: string };
      await page.getByLabel('Code').fill(started.user_code);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Allow Device CLI on your device?' }).waitFor();
      await checkPage(page, 'device approval');
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.getByRole('heading', { name: 'Request denied' }).waitFor();
      await checkPage(page, 'device outcome');

      // The inbox, with a request that asks what the consent page asked: in the same words.
      const session = (await page.context().cookies(server.url)).find((c) => c.name === 'consulate_session')!;
      const sub = (await server.deps.store.subjects.findByEmail(alice))!;
      expect(session).toBeDefined();
      const request = { identityScopes: ['openid', 'email'], resource: api, resourceScopes: ['read-data'], authorizationDetails: [toolCall], bindingMessage: 'Note for Monday' };
      const opened = await openApproval(server.deps, { kind: 'ciba', clientId: 'web-app', sub, request, approvers: { kind: 'subject' }, expiresIn: 600, interval: 5 });
      await page.goto(`${server.url}/approvals`);
      const card = page.getByRole('region', { name: 'Request of Example Web App' });
      await card.waitFor();
      await checkPage(page, 'approvals inbox');
      expect(await askShown(card)).toEqual(consentWords);
      await card.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${server.url}/approvals?decided=${opened.id}`);
      expect(await page.getByRole('status').innerText()).toBe('Approved: Example Web App may go ahead.');
      await checkPage(page, 'approvals inbox after a decision');

      // The session page and the account page.
      await page.goto(`${server.url}/session`);
      await checkPage(page, 'session');
      await page.goto(`${server.url}/account`);
      await page.getByRole('heading', { name: 'Applications you allowed' }).waitFor();
      await checkPage(page, 'account');

      // An application's sign-out request asks first; then the signed-out page.
      await page.goto(`${server.url}/end-session`);
      await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
      await checkPage(page, 'sign-out confirmation');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Signed out' }).waitFor();
      expect(await page.getByRole('status').innerText()).toBe('You are signed out of Example Corp sign-in.');
      await checkPage(page, 'signed out');
    } finally {
      await chromium.close();
    }
  }, 120_000);

  browserTest('/session leads on to the account and the inbox; the account page signs out', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(`${server.url}/session`);
      await signInInBrowser(page, alice);
      await page.waitForURL(`${server.url}/session`);
      await page.getByRole('link', { name: 'Requests waiting for your approval' }).click();
      await page.waitForURL(`${server.url}/approvals`);
      await page.goto(`${server.url}/session`);
      await page.getByRole('link', { name: 'Your account' }).click();
      await page.waitForURL(`${server.url}/account`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/login');
      // Signed out: the session is gone, so /session asks to sign in again.
      await page.goto(`${server.url}/session`);
      expect(new URL(page.url()).pathname).toBe('/login');
      expect((await chromium.context.cookies(server.url)).some((c) => c.name === 'consulate_session')).toBe(false);
    } finally {
      await chromium.close();
    }
  }, 60_000);

  it('the account page’s sign-out is a same-origin POST with the CSRF token: without it nothing ends', async () => {
    const jar = cookieJar();
    const signedIn = await drive(server, okta, jar, `${server.url}/account`, { username: alice });
    expect(signedIn.page?.status).toBe(200);
    const html = signedIn.page!.html;
    expect(html).toContain('<form method="post" action="/logout" class="actions">');
    const signOut = (fields: Record<string, string>) => jar.fetch(`${server.url}/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
    expect((await signOut({})).status).toBe(403);
    expect((await jar.fetch(`${server.url}/session`)).status).toBe(200);
    const done = await signOut({ csrf: hiddenFields(html).csrf! });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/login');
    expect((await jar.fetch(`${server.url}/session`)).status).toBe(303);
  });

  it('one stylesheet of our own: its URL carries its hash, it is cached for a year, and the CSP allows nothing inline', async () => {
    const response = await fetch(`${server.url}/login`);
    const html = await response.text();
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain(`img-src ${new URL(logo.url).origin}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('script-src');
    expect(html).not.toContain('<style');
    expect(html).not.toContain(' style=');
    const href = /<link rel="stylesheet" href="(\/assets\/consulate-[A-Za-z0-9_-]{16}\.css)"/.exec(html)?.[1];
    expect(href).toBeDefined();

    const css = await fetch(`${server.url}${href}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await css.text();
    expect(body).toContain(`--accent: ${accent};`);
    expect(body).toContain(':focus-visible');
    expect((await fetch(`${server.url}${href}`, { headers: { 'if-none-match': css.headers.get('etag')! } })).status).toBe(304);
    expect((await fetch(`${server.url}/assets/consulate-AAAAAAAAAAAAAAAA.css`)).status).toBe(404);
  });

  it('a config reload rebrands the pages: a new name, and a new stylesheet URL for a new accent', async () => {
    const before = await (await fetch(`${server.url}/login`)).text();
    const oldHref = /href="(\/assets\/[^"]+)"/.exec(before)![1]!;
    writeFileSync(join(server.configDir, 'consulate.yaml'), branding(logo.url, 'Contoso Identity', '#7c3aed'));
    try {
      expect(await server.reload('test')).toBe(true);
      const after = await (await fetch(`${server.url}/login`)).text();
      expect(after).toContain('<title>Sign in · Contoso Identity</title>');
      const newHref = /href="(\/assets\/[^"]+)"/.exec(after)![1]!;
      expect(newHref).not.toBe(oldHref);
      expect(await (await fetch(`${server.url}${newHref}`)).text()).toContain('--accent: #7c3aed;');
    } finally {
      writeFileSync(join(server.configDir, 'consulate.yaml'), branding(logo.url));
      expect(await server.reload('test')).toBe(true);
    }
  });

  it('a branding value that could break out of its place is refused at load, and the running config stays', async () => {
    for (const bad of ['accent_color: "red; } body { display: none"', 'logo_url: javascript:alert(1)', 'support_url: http://help.example.test/']) {
      writeFileSync(join(server.configDir, 'consulate.yaml'), `${fixtureMain}\nbranding:\n  ${bad}\n`);
      expect(await server.reload('test'), bad).toBe(false);
    }
    writeFileSync(join(server.configDir, 'consulate.yaml'), branding(logo.url));
    expect(await server.reload('test')).toBe(true);
    expect(await (await fetch(`${server.url}/login`)).text()).toContain('<title>Sign in · Example Corp sign-in</title>');
  });
});
