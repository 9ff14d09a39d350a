// The account pages' agents and receipts, driven like a browser (cookie jar, the pages' own forms):
// an owner sees their agent's state, policy and delegations, suspends it (its token requests are
// refused, a receipt names the owner) and resumes it; another person's agent is 404 for page and
// form alike. Each delegation lists the receipts that name it, each with its explanation page, which
// only the receipt's subject or its agent's owner may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { hashId } from '../../src/oauth/ids.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import type { TestConsulate } from './support/consulate.ts';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { accessTokenType, addPerson, api, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';

const secretOf = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;

const agentYaml = (id: string, name: string, owner: string) => `client_id: ${id}
kind: agent
name: ${name}
owner: ${owner}
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret(secretOf(id))}
grant_types: [${exchangeGrant}]
resources:
  ${api}:
    scopes: [read-data]
delegation:
  act_for: { anyone: true }
  subject_token_clients: [web-app]
  max_ttl_seconds: 300
`;

describe('/account/agents and receipts', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  const alice = { jar: cookieJar() } as { jar: Jar; person: Person };
  let carol: Person;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({
      files: {
        'clients/helper.yaml': agentYaml('helper', 'Helper', 'alice@example.com'),
        'clients/runner.yaml': agentYaml('runner', 'Runner', 'ops@example.test'),
      },
    }));
    const outcome = await drive(server, okta, alice.jar, `${server.url}/account`, { username: 'alice@example.com' });
    expect(outcome.page?.status).toBe(200);
    const session = await server.deps.store.logins.findSession(hashId(alice.jar.cookies.get('consulate_session')!), server.deps.now());
    alice.person = { sub: session!.sub, claims: session!.claims };
    carol = await addPerson(server, 'carol', { email: 'carol@example.test', email_verified: true, name: 'Carol Example' });
  }, 60_000);
  afterAll(async () => stop?.());

  const exchange = async (person: Person, agent: string) => {
    const { access_token } = await personTokens(server, person);
    return postForm(server, '/token', { grant_type: exchangeGrant, subject_token: access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, { authorization: basicAuth(agent, secretOf(agent)) });
  };
  const page = async (path: string) => {
    const response = await alice.jar.fetch(`${server.url}${path}`);
    return { status: response.status, html: await response.text() };
  };
  const post = (path: string, fields: Record<string, string>) =>
    alice.jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
  const receiptsOf = async (event: string) => (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === event);

  it('the owner sees the agent, its policy in words and whom it acts for; only their own agents', async () => {
    expect((await exchange(carol, 'helper')).status).toBe(200);
    const { status, html } = await page('/account/agents');
    expect(status).toBe(200);
    expect(html).toContain('<a href="/account/agents/helper">Helper</a>');
    expect(html).toContain('State: <strong>active (as its configuration declares)</strong>');
    expect(html).toContain('May act for: anyone who signs in');
    expect(html).toContain('Passports last at most 300 seconds');
    expect(html).toMatch(/Carol Example on Demo API since \d{4}-\d{2}-\d{2}/);
    expect(html).not.toContain('Runner');
    // Linked from the account page and the session page.
    expect((await page('/account')).html).toContain('href="/account/agents"');
    expect((await page('/session')).html).toContain('href="/account/agents"');
  });

  it('suspend: the agent is refused tokens, a receipt names the owner; resume: it works again', async () => {
    const { html } = await page('/account/agents/helper');
    const csrf = hiddenFields(html).csrf!;
    expect(html).toContain('action="/account/agents/helper/suspend"');

    const suspended = await post('/account/agents/helper/suspend', { csrf });
    expect(suspended.status).toBe(303);
    expect(suspended.headers.get('location')).toBe('/account/agents/helper?done=suspended');
    const after = await page(suspended.headers.get('location')!);
    expect(after.html).toContain('<p role="status">Suspended: it gets no more tokens');
    expect(after.html).toContain('State: <strong>suspended (set on');
    expect(after.html).toContain('action="/account/agents/helper/resume"');

    const refused = await exchange(carol, 'helper');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect(await receiptsOf('agent.suspended')).toMatchObject([{ clientId: 'helper', details: { by: `person:${alice.person.sub}`, from: 'active', to: 'suspended' } }]);

    // The same form again changes nothing and writes no second receipt.
    const again = await post('/account/agents/helper/suspend', { csrf });
    expect(again.headers.get('location')).toBe('/account/agents/helper?done=unchanged');
    expect(await receiptsOf('agent.suspended')).toHaveLength(1);

    const resumed = await post('/account/agents/helper/resume', { csrf });
    expect(resumed.headers.get('location')).toBe('/account/agents/helper?done=resumed');
    expect((await exchange(carol, 'helper')).status).toBe(200);
    expect(await receiptsOf('agent.resumed')).toMatchObject([{ clientId: 'helper', details: { by: `person:${alice.person.sub}`, from: 'suspended', to: 'active' } }]);
  });

  it("another person's agent, or an unknown one, is 404 for the page and the form; nothing changes", async () => {
    const csrf = hiddenFields((await page('/account/agents')).html).csrf!;
    for (const id of ['runner', 'nobody', 'web-app']) {
      expect((await page(`/account/agents/${id}`)).status).toBe(404);
      expect((await post(`/account/agents/${id}/suspend`, { csrf })).status).toBe(404);
    }
    expect(await server.deps.store.agentStates.find('runner')).toBeUndefined();
    expect((await exchange(carol, 'runner')).status).toBe(200);
    // Without the CSRF token: refused, nothing changes.
    expect((await post('/account/agents/helper/suspend', {})).status).toBe(403);
    expect((await server.deps.store.agentStates.find('helper'))?.state).toBe('active');
  });

  it('each delegation lists its receipts, each with its explanation; another person\'s receipt is 404', async () => {
    const response = await exchange(alice.person, 'runner');
    expect(response.status).toBe(200);
    const { html } = await page('/account');
    const issued = (await receiptsOf('passport.exchanged')).filter((r) => r.clientId === 'runner' && r.subject === alice.person.sub);
    expect(issued).toHaveLength(1);
    const receipt = issued[0]!;
    expect(html).toContain(`<a href="/account/receipts/${receipt.id}">`);
    expect(html).toContain(`Passport issued to runner for sub ${alice.person.sub} at ${api} (token exchange)`);

    const explanation = await page(`/account/receipts/${receipt.id}`);
    expect(explanation.status).toBe(200);
    expect(explanation.html).toContain('<dd>issued</dd>');
    expect(explanation.html).toContain(`delegation ${receipt.details.did as string} (started here)`);
    expect(explanation.html).toContain('scopes: read-data');

    // Carol's delegation to Helper: Alice owns Helper, so she sees its receipts too.
    const helperReceipt = (await receiptsOf('passport.exchanged')).find((r) => r.clientId === 'helper')!;
    expect(html).toContain(`/account/receipts/${helperReceipt.id}`);
    expect((await page(`/account/receipts/${helperReceipt.id}`)).status).toBe(200);
    // Carol's delegation to Runner: neither Alice's nor her agent's.
    expect((await exchange(carol, 'runner')).status).toBe(200);
    const others = (await receiptsOf('passport.exchanged')).filter((r) => r.clientId === 'runner' && r.subject === carol.sub);
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect((await page(`/account/receipts/${other.id}`)).status).toBe(404);
    expect((await page('/account/receipts/f0000000-0000-7000-8000-000000000000')).status).toBe(404);
  });
});
