// CIBA and a paused token exchange decided by the person, end to end, with nothing called directly:
// a CIBA client (openid-client) asks for a person by e-mail; the person, signed in through the
// stand-in Okta in Chromium, reads the request in the inbox (binding message, scopes in words) and
// clicks Approve; the client's poll returns the Passport naming the approval and the person's ID
// token. Then an agent's token exchange pauses on a consent policy; the person approves it through
// the JSON API with their own Passport; the agent's poll resumes it with exactly what was approved.
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { drive, startWithOkta } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { discover } from './support/clients.ts';
import type { TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';
import { accessTokenType, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deskSecret = 'order-desk-secret-0123456789abcdefghijklmnopqrstuvwxyz';

const mainYaml = ['listen:', '  host: 127.0.0.1', '  port: 0', 'passports:', '  ttl_seconds: 300', 'keys:', '  reload_seconds: 0.05', 'log:', '  level: info', 'ciba:', '  interval_seconds: 1', ''].join('\n');

const deskYaml = [
  'client_id: order-desk',
  'name: Order Desk',
  'token_endpoint_auth_method: client_secret_basic',
  `secret_hash: ${hashSecret(deskSecret)}`,
  `grant_types: [${cibaGrant}]`,
  'resources:',
  `  ${api}:`,
  '    scopes: [read-data, write-data]',
  '',
].join('\n');

// startWithOkta passes only the Okta secret as environment: the hash goes into the file itself.
const writerYaml = agentYaml('writer', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]')
  .replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}]`)
  .replace(`\${env:${envName('writer')}}`, hashSecret(agentSecret('writer')));

const policy = ['rules:', '  - name: agent-writes', '    when: client.kind == "agent" && "write-data" in scopes', '    then: { obligations: { consent: { approvers: subject, validity_seconds: 120 } } }', 'default: allow', ''].join('\n');

describe('CIBA and paused exchange, decided by the person in the inbox', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let desk: client.Configuration;
  let writer: client.Configuration;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { 'consulate.yaml': mainYaml, 'clients/order-desk.yaml': deskYaml, 'clients/writer.yaml': writerYaml, 'policies/agents.yaml': policy } }));
    desk = await discover(server, 'order-desk', client.ClientSecretBasic(deskSecret));
    writer = await discover(server, 'writer', client.ClientSecretBasic(agentSecret('writer')));
  }, 60_000);
  afterAll(async () => stop?.());

  const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const openOf = async (clientId: string) => (await server.deps.store.approvals.listOpen(server.deps.now())).filter((r) => r.clientId === clientId);
  /** The person's own Passport for Consulate (aud = issuer), as their web app holds it. */
  const ownPassport = async (person: Person) => (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
  const apiCall = async (path: string, token: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** Alice as a sign-in through the stand-in Okta makes her: the known person, with her claims. */
  async function aliceAsSignedIn(): Promise<Person> {
    const sub = await server.deps.store.subjects.findByEmail('alice@example.com');
    expect(sub).toEqual(expect.any(String));
    return { sub: sub!, claims: (await server.deps.store.subjects.claimsOf(sub!))! };
  }

  browserTest('the client asks by e-mail, the person approves in the browser, the client gets her Passport and ID token', async () => {
    // Nobody has signed in with that e-mail yet: unknown to Consulate.
    await expect(client.initiateBackchannelAuthentication(desk, { scope: 'openid', login_hint: 'alice@example.com' })).rejects.toMatchObject({ error: 'unknown_user_id', status: 400 });

    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(`${server.url}/approvals`);
      await signInInBrowser(page, 'alice@example.com');
      await page.waitForURL(`${server.url}/approvals`);
      expect(await page.locator('main').innerText()).toContain('Nothing is waiting for your approval.');
      const alice = await aliceAsSignedIn();

      // The client's backchannel request, by the e-mail she signed in with.
      const response = await client.initiateBackchannelAuthentication(desk, { scope: 'openid email read-data', login_hint: 'Alice@Example.com', binding_message: 'Order 4711' });
      expect(response).toMatchObject({ auth_req_id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), interval: 1 });
      const open = await openOf('order-desk');
      expect(open).toHaveLength(1);
      const approvalId = open[0]!.id;
      expect(open[0]).toMatchObject({ kind: 'ciba', sub: alice.sub, status: 'pending' });
      // The client polls meanwhile (openid-client: authorization_pending until she decides).
      const polled = client.pollBackchannelAuthenticationGrant(desk, response);
      polled.catch(() => undefined);
      for (let i = 0; i < 50 && (await server.deps.store.approvals.find(approvalId))?.lastPolledAt === undefined; i++) await new Promise((r) => setTimeout(r, 100));
      expect(server.logs.filter((line) => line.error === 'authorization_pending').length).toBeGreaterThan(0);

      await page.reload();
      const section = page.getByRole('region', { name: 'Request of Order Desk' });
      const text = await section.innerText();
      expect(text).toContain('Order Desk for Alice Anderson (alice@example.com)');
      expect(await section.locator('q').innerText()).toBe('Order 4711');
      expect(text).toContain('Know who you are (your account id and the organisation you signed in with)');
      expect(text).toContain('See your e-mail address');
      expect(await section.getByRole('region', { name: 'Demo API' }).innerText()).toBe('On Demo API\nRead your data');
      expect(text).not.toContain('Change your data');
      expect(await section.locator('form').getAttribute('action')).toBe(`/approvals/${approvalId}`);

      await section.getByRole('button', { name: 'Approve' }).click();
      await page.waitForURL(`${server.url}/approvals?decided=${approvalId}`);
      expect(await page.getByRole('status').innerText()).toBe('Approved: Order Desk may go ahead.');

      const tokens = await polled;
      const { payload: passport } = await jwtVerify(tokens.access_token, jwks(), { issuer: server.issuer, audience: api, typ: 'at+jwt' });
      expect(passport).toMatchObject({ sub: alice.sub, client_id: 'order-desk', approval: approvalId });
      expect(String(passport.scope).split(' ').sort()).toEqual(['email', 'openid', 'read-data']);
      expect(passport.act).toBeUndefined();
      const { payload: idToken } = await jwtVerify(tokens.id_token!, jwks(), { issuer: server.issuer, audience: 'order-desk' });
      expect(idToken).toMatchObject({ sub: alice.sub, email: 'alice@example.com', email_verified: true });
      expect(tokens.claims()).toMatchObject({ sub: alice.sub });
      expect((await server.deps.store.approvals.find(approvalId))?.status).toBe('issued');
      const decided = (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'approval.decided' && r.details.approval === approvalId);
      expect(decided).toMatchObject([{ details: { decision: 'approve', approver: alice.sub, outcome: 'approved' } }]);

      // Used: the same auth_req_id gets nothing more.
      await expect(client.pollBackchannelAuthenticationGrant(desk, response)).rejects.toMatchObject({ error: 'invalid_grant' });
    } finally {
      await chromium.close();
    }
  }, 60_000);

  it('an agent’s exchange pauses, the person approves through the JSON API, the agent’s poll resumes it', async () => {
    // Alice signs in herself (as a cookie-keeping client, not Chromium): this test does not rely on the browser test.
    const signedIn = await drive(server, okta, cookieJar(), `${server.url}/approvals`, { username: 'alice@example.com' });
    expect(signedIn.page?.status).toBe(200);
    const person = await aliceAsSignedIn();
    const subjectToken = (await personTokens(server, person, { resourceScopes: ['read-data', 'write-data'] })).access_token;
    const paused = await client.genericGrantRequest(writer, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, scope: 'write-data' }).then(
      () => undefined,
      (e: unknown) => (e as client.ResponseBodyError).cause as Record<string, unknown>,
    );
    expect(paused).toMatchObject({ error: 'authorization_pending', auth_req_id: expect.any(String), expires_in: 120, interval: 1 });
    const [record] = await openOf('writer');
    expect(record).toMatchObject({ kind: 'exchange', sub: person.sub, status: 'pending' });
    const polled = client.pollBackchannelAuthenticationGrant(writer, { auth_req_id: paused!.auth_req_id as string, expires_in: paused!.expires_in as number, interval: paused!.interval as number });
    polled.catch(() => undefined);

    const token = await ownPassport(person);
    const inbox = await apiCall('/approvals/api', token);
    expect(inbox.status).toBe(200);
    const listed = (inbox.body.approvals as Record<string, unknown>[]).find((a) => a.id === record!.id);
    expect(listed).toMatchObject({ kind: 'exchange', client: 'writer', client_name: 'Agent writer', person: 'Alice Anderson (alice@example.com)', resource: 'Demo API', asks: ['Change your data'] });

    const decided = await apiCall(`/approvals/api/${record!.id}`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(decided).toEqual({ status: 200, body: { approval: record!.id, decision: 'approve', outcome: 'approved' } });

    const issued = await polled;
    expect(issued).toMatchObject({ issued_token_type: accessTokenType, scope: 'write-data' });
    const { payload } = await jwtVerify(issued.access_token, jwks(), { issuer: server.issuer, audience: api, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: person.sub, act: { sub: 'writer' }, client_id: 'writer', scope: 'write-data', approval: record!.id });

    // The agent's new Passport is no key to the inbox.
    expect((await apiCall('/approvals/api', issued.access_token)).status).toBe(401);
    expect(decodeJwt(issued.access_token).aud).toBe(api);
  });
});
