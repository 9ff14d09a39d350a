// `npm run screenshots`: the pages people see, photographed in Chromium for the docs
// (docs/images/pages/*.png, shown in docs/operators/pages-and-branding.md). Starts what the demo
// starts, on loopback and ephemeral ports: a stand-in Okta, Consulate with the test fixtures plus an
// MCP-style agent, then walks a person through sign-in, consent, a device code, the approvals inbox
// (an MCP tool call waiting for her), the account and session pages, an error, and one branded page.
// Not part of `npm test`. Needs Chromium (CHROMIUM_PATH or /usr/bin/chromium).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { hashSecret } from '../src/clients/secrets.ts';
import { openApproval } from '../src/consent/approvals.ts';
import { startUpstream } from '../src/demo/upstream-idp.ts';
import { freePort } from './e2e/support/browser.ts';
import { startConsulate } from './e2e/support/consulate.ts';

const out = resolve(import.meta.dirname, '../docs/images/pages');
const api = 'https://api.demo.example';
const alice = 'alice@example.com';
const fixtureMain = readFileSync(resolve(import.meta.dirname, 'fixtures/config/consulate.yaml'), 'utf8');

const files = {
  'clients/device-cli.yaml': ['client_id: device-cli', 'name: Notes CLI', 'token_endpoint_auth_method: none', 'grant_types: [urn:ietf:params:oauth:grant-type:device_code]', 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
  'clients/notes-mcp-server.yaml': [
    'client_id: notes-mcp-server',
    'kind: agent',
    'name: Notes MCP server',
    'owner: alice@example.com',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: ${hashSecret(randomBytes(32).toString('base64url'))}`,
    'grant_types: [client_credentials]',
    'resources:',
    `  ${api}:`,
    '    scopes: [read-data, write-data]',
    '    authorization_details_types: [tool]',
    'delegation:',
    '  act_for: { people: [alice@example.com] }',
  ].join('\n'),
};

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`http://127.0.0.1:${port}/callback/okta`] }] });
  const upstream = ['id: okta', 'kind: okta', 'name: Example Corp (Okta)', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}', 'scopes: [openid, profile, email, groups]', 'email_domains: [example.com]'];
  const server = await startConsulate({ port, env: { OKTA_SECRET: secret }, files: { ...files, 'upstreams/okta.yaml': upstream.join('\n') } });
  const logo = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="14" fill="#0f766e"/><path d="M18 34l9 9 19-21" stroke="#fff" stroke-width="7" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>'),
  );
  await new Promise<void>((done) => logo.listen(0, '127.0.0.1', done));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const written: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
    await context.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));
    const page = await context.newPage();
    const shoot = async (name: string, width = 800) => {
      await page.setViewportSize({ width, height: 600 });
      const file = join(out, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      written.push(`${name}.png ${Math.round(statSync(file).size / 1024)} KB`);
    };

    await page.goto(`${server.url}/login`);
    await shoot('sign-in');
    await shoot('sign-in-phone', 375);
    await page.goto(`${server.url}/login/nowhere`);
    await shoot('error');

    // Consent for a web app that asks for a tool call besides sign-in and a scope.
    const authorize = new URL(`${server.url}/authorize`);
    const details = [{ type: 'tool', tool: 'send_invoice', actions: ['call'], arguments: { customer: 'Contoso Ltd', amount: 1250, currency: 'EUR' } }];
    const params = {
      response_type: 'code', client_id: 'web-app', redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid profile email read-data', resource: api,
      authorization_details: JSON.stringify(details), code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'), code_challenge_method: 'S256', state: 'docs', login_hint: alice,
    };
    for (const [name, value] of Object.entries(params)) authorize.searchParams.set(name, value);
    await page.goto(authorize.href);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('heading', { name: 'Allow Example Web App?' }).waitFor();
    await shoot('consent');
    await shoot('consent-phone', 375);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith('http://127.0.0.1:9/'));

    // A device code, and the device's request.
    await page.goto(`${server.url}/device`);
    await shoot('device-code');
    const started = (await (await fetch(`${server.url}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: 'device-cli', scope: 'read-data' }) })).json()) as { user_code: string };
    await page.getByLabel('Code').fill(started.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: /on your device\?$/ }).waitFor();
    await shoot('device-approval');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();

    // The inbox: the MCP server's add_note waits for her (a paused token exchange).
    const sub = await server.deps.store.subjects.findByEmail(alice);
    if (!sub) throw new Error('alice did not sign in');
    const request = { agent: 'notes-mcp-server', resource: api, resourceScopes: ['write-data'], authorizationDetails: [{ type: 'tool', tool: 'add_note', actions: ['call'], arguments: { text: 'Call the plumber about the kitchen tap on Monday' } }] };
    await openApproval(server.deps, { kind: 'exchange', clientId: 'notes-mcp-server', sub, request, approvers: { kind: 'subject' }, expiresIn: 300, interval: 5 });
    await page.goto(`${server.url}/approvals`);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await shoot('approvals');
    await shoot('approvals-phone', 375);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').waitFor();
    await shoot('approvals-decided');

    await page.goto(`${server.url}/account`);
    await shoot('account');
    await page.goto(`${server.url}/session`);
    await shoot('session');

    // The same sign-in page under an operator's branding (a reload applies it).
    const logoUrl = `http://127.0.0.1:${(logo.address() as AddressInfo).port}/logo.svg`;
    writeFileSync(join(server.configDir, 'consulate.yaml'), `${fixtureMain}\nbranding:\n  product_name: Example Corp sign-in\n  logo_url: ${logoUrl}\n  accent_color: "#0f766e"\n  support_url: https://help.example.com/sign-in\n`);
    if (!(await server.reload('screenshots'))) throw new Error('the branded config did not load');
    await page.goto(`${server.url}/login`);
    await page.locator('header img').evaluate((img) => ((img as { complete: boolean }).complete ? undefined : new Promise((done) => img.addEventListener('load', done))));
    await shoot('sign-in-branded');
  } finally {
    await browser.close();
    await server.stop();
    await okta.close();
    logo.close();
  }
  process.stdout.write(`wrote ${out}:\n  ${written.join('\n  ')}\n`);
}

await main();
