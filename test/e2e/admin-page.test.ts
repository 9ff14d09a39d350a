// The admin page (/admin) in Chromium: a person whose canonical claims make them an operator
// (admin.operators: a group, or a verified e-mail) signs in, sees agents, pending approvals, recent
// receipts and the config status, suspends and resumes an agent with the page's buttons (receipts
// name the person), and reads a receipt explained. Anyone else is refused, and the forms need the
// browser's CSRF token and a same-origin POST: a refused form changes nothing.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { hashId, randomId } from '../../src/oauth/ids.ts';
import { hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { seriousViolations } from './support/axe.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { postForm } from './support/clients.ts';
import type { TestConsulate } from './support/consulate.ts';
import { addPerson, agentSecret, agentYaml, api, envName, type Person } from './support/delegation.ts';

const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const fixtureMain = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');

describe('admin page', () => {
  let server: TestConsulate;
  let stop: () => Promise<void>;
  let dora: Person, bob: Person, eve: Person;

  beforeAll(async () => {
    ({ server, stop } = await startWithOkta({
      files: {
        'consulate.yaml': fixtureMain.replace('\nadmin:\n', '\nadmin:\n  operators: [group:Admins, Dora@Example.test, bob@example.test]\n'),
        'clients/helper.yaml': agentYaml('helper', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]').replace(`\${env:${envName('helper')}}`, hashSecret(agentSecret('helper'))),
        'clients/device-cli.yaml': ['client_id: device-cli', 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
      },
    }));
    dora = await addPerson(server, 'dora', { email: 'dora@example.test', email_verified: true });
    // Listed by e-mail, but the upstream did not verify it: not an operator.
    bob = await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: false });
    eve = await addPerson(server, 'eve', { email: 'eve@example.test', email_verified: true, groups: ['Everyone'] });
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  async function signedIn(person: Person): Promise<Jar> {
    const jar = cookieJar();
    const id = randomId();
    const now = server.deps.now();
    await server.deps.store.logins.saveSession({ idHash: hashId(id), sid: `sid-${randomId()}`, sub: person.sub, upstreamId: 'okta', claims: person.claims, authTime: now, createdAt: now, expiresAt: now + 3600 });
    jar.cookies.set('consulate_session', id);
    return jar;
  }
  const csrfOf = async (jar: Jar) => hiddenFields(await (await jar.fetch(`${server.url}/login`)).text()).csrf!;
  const post = (jar: Jar, path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  const stateOf = async () => (await server.deps.store.agentStates.find('helper'))?.state ?? 'active';
  const receiptsOf = async (event: string) => (await server.deps.store.audit.list({ limit: 10_000 })).filter((r) => r.event === event);

  browserTest('in a real browser: an operator by group signs in, suspends and resumes an agent, and reads a receipt explained', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(`${server.url}/admin`);
      await signInInBrowser(page, 'alice@example.com');
      await page.waitForURL(`${server.url}/admin`);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Administration');
      for (const name of ['Agents', 'Pending approvals', 'Recent receipts', 'Configuration']) await expect(page.getByRole('heading', { name, level: 2 }).count()).resolves.toBe(1);
      expect(await seriousViolations(page)).toEqual([]);
      const agent = page.getByRole('region', { name: 'Agent helper' });
      expect(await agent.innerText()).toContain('State: active');

      await agent.getByRole('button', { name: 'Suspend Agent helper' }).click();
      await page.waitForURL(`${server.url}/admin?done=suspended`);
      expect(await page.getByRole('status').innerText()).toBe('Agent suspended: it gets no more tokens on any node until resumed.');
      expect(await page.getByRole('region', { name: 'Agent helper' }).innerText()).toContain('State: suspended');
      expect(await stateOf()).toBe('suspended');
      const cookie = (await chromium.context.cookies(server.url)).find((c) => c.name === 'consulate_session')!;
      const session = (await server.deps.store.logins.findSession(hashId(cookie.value), server.deps.now()))!;
      expect((await receiptsOf('agent.suspended')).at(-1)?.details).toMatchObject({ by: `person:${session.sub}`, to: 'suspended' });

      await page.getByRole('link', { name: 'agent.suspended' }).first().click();
      await page.waitForURL(/\/admin\/receipts\//);
      expect(await page.locator('main').innerText()).toContain('agent.suspended');
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('link', { name: 'Administration' }).click();

      await page.getByRole('region', { name: 'Agent helper' }).getByRole('button', { name: 'Resume Agent helper' }).click();
      await page.waitForURL(`${server.url}/admin?done=resumed`);
      expect(await stateOf()).toBe('active');
      expect((await receiptsOf('agent.resumed')).at(-1)?.details).toMatchObject({ by: `person:${session.sub}` });
    } finally {
      await chromium.close();
    }
  }, 60_000);

  it('an operator by verified e-mail (any case) sees pending approvals and cancels one; the receipt names them', async () => {
    const asked = await postForm(server, '/device_authorization', { client_id: 'device-cli', scope: 'read-data', resource: api });
    expect(asked.status).toBe(200);
    const jar = await signedIn(dora);
    const html = await (await jar.fetch(`${server.url}/admin`)).text();
    const id = /action="\/admin\/approvals\/([^/"]+)\/cancel"/.exec(html)?.[1];
    expect(id).toBeDefined();
    const answer = await post(jar, `/admin/approvals/${id}/cancel`, { csrf: await csrfOf(jar) });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/admin?done=cancelled');
    expect((await server.deps.store.approvals.find(id!))?.status).toBe('denied');
    expect((await receiptsOf('approval.cancelled')).at(-1)?.details).toMatchObject({ approval: id, by: `person:${dora.sub}` });
    const poll = await postForm(server, '/token', { grant_type: deviceGrant, device_code: asked.body.device_code as string, client_id: 'device-cli' });
    expect(poll.body.error).toBe('access_denied');
  });

  it('refuses everyone else: signed out goes to sign-in, an unverified e-mail or another group gets 403, and their forms change nothing', async () => {
    const anonymous = await cookieJar().fetch(`${server.url}/admin`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?return_to=%2Fadmin');
    for (const person of [bob, eve]) {
      const jar = await signedIn(person);
      expect((await jar.fetch(`${server.url}/admin`)).status).toBe(403);
      expect((await jar.fetch(`${server.url}/admin/receipts/${(await receiptsOf('agent.resumed')).at(-1)?.id ?? 'x'}`)).status).toBe(403);
      expect((await post(jar, '/admin/agents/helper/suspend', { csrf: await csrfOf(jar) })).status).toBe(403);
    }
    expect(await stateOf()).toBe('active');
  });

  it('an operator\'s form without the CSRF token, or from another site, changes nothing', async () => {
    const jar = await signedIn(dora);
    await csrfOf(jar);
    expect((await post(jar, '/admin/agents/helper/suspend', {})).status).toBe(403);
    expect((await post(jar, '/admin/agents/helper/suspend', { csrf: await csrfOf(jar) }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await stateOf()).toBe('active');
    expect((await post(jar, '/admin/agents/helper/suspend', { csrf: await csrfOf(jar) })).headers.get('location')).toBe('/admin?done=suspended');
    expect(await stateOf()).toBe('suspended');
  });
});
