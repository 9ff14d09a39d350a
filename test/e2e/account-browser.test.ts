// The self-service pages in a real browser (Chromium): from /session to the agents page, suspend and
// resume an owned agent; to the tokens page, create a PAT with the page's own form (checkboxes),
// copy it from the page once, use it, revoke it. Both pages pass an accessibility scan.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { patPattern } from '../../src/pats/format.ts';
import { seriousViolations } from './support/axe.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { startWithOkta } from './support/authorize.ts';
import { api, exchangeGrant } from './support/delegation.ts';

const agentYaml = `client_id: helper
kind: agent
name: Helper
owner: alice@example.com
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret('helper-secret-0123456789abcdefghijklmnopqrstuvwxyz')}
grant_types: [${exchangeGrant}]
resources:
  ${api}:
    scopes: [read-data]
delegation:
  act_for: { groups: [engineering] }
`;

describe('/account pages in Chromium', () => {
  let server: TestConsulate;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ server, stop } = await startWithOkta({ files: { 'clients/helper.yaml': agentYaml } }));
  }, 60_000);
  afterAll(async () => stop?.());

  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;

  browserTest('suspend and resume an agent, create, use and revoke a personal access token', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(`${server.url}/session`);
      await signInInBrowser(page, 'alice@example.com');
      await page.waitForURL(`${server.url}/session`);

      await page.getByRole('link', { name: 'Agents you own' }).click();
      await page.waitForURL(`${server.url}/account/agents`);
      const card = page.getByRole('region', { name: 'Helper' });
      expect(await card.innerText()).toContain('May act for: members of the groups engineering');
      expect(await seriousViolations(page)).toEqual([]);
      await card.getByRole('button', { name: 'Suspend Helper: it gets no more tokens' }).click();
      await page.waitForURL(`${server.url}/account/agents/helper?done=suspended`);
      expect(await page.getByRole('status').innerText()).toContain('Suspended');
      expect((await server.deps.store.agentStates.find('helper'))?.state).toBe('suspended');
      await page.getByRole('button', { name: 'Resume Helper' }).click();
      await page.waitForURL(`${server.url}/account/agents/helper?done=resumed`);
      expect((await server.deps.store.agentStates.find('helper'))?.state).toBe('active');

      await page.goto(`${server.url}/session`);
      await page.getByRole('link', { name: 'Your personal access tokens' }).click();
      await page.waitForURL(`${server.url}/account/tokens`);
      expect(await seriousViolations(page)).toEqual([]);
      const form = page.getByRole('region', { name: 'New token for Demo API' });
      await form.getByLabel('Name (what it is for)').fill('my script');
      await form.getByLabel('read-data: Read your data').check();
      await form.getByLabel('write-data: Change your data').check();
      await form.getByLabel(/Expires in/).fill('7');
      await form.getByRole('button', { name: 'Create token' }).click();
      const token = (await page.locator('#new-token').innerText()).trim();
      expect(token).toMatch(patPattern);
      expect(await introspect(token)).toMatchObject({ active: true, token_type: 'pat', scope: 'read-data write-data', aud: api });

      await page.goto(`${server.url}/account/tokens`);
      expect(await page.locator('#new-token').count()).toBe(0);
      expect(await page.content()).not.toContain(token);
      expect(await page.getByRole('list', { name: 'Your tokens' }).innerText()).toMatch(/my script for Demo API: read-data, write-data; expires \d{4}-\d\d-\d\d; last used/);
      await page.getByRole('button', { name: 'Revoke my script' }).click();
      await page.waitForURL(`${server.url}/account/tokens?done=revoked`);
      expect(await page.getByRole('status').innerText()).toContain('Token revoked');
      expect(await introspect(token)).toEqual({ active: false });
    } finally {
      await chromium.close();
    }
  }, 60_000);
});
