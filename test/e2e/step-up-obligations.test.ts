// Step-up as a policy obligation, against a real server and a stand-in Okta: a browser request whose
// policy wants acr mfa goes back to the upstream with acr_values before any code exists, and a deny
// reaches the application as access_denied; a paused exchange whose rule has consent and step-up is
// approved only by an approver whose own sign-in meets it (refused server-side with a stale one,
// approved after a fresh sign-in through the inbox); a device request a policy denies.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { approverFrom } from '../../src/consent/approvers.ts';
import { decideApproval } from '../../src/consent/approvals.ts';
import { drive, hiddenFields, redirectParams, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const redirectUri = 'https://app.example.test/callback';
const alice = 'alice@example.com';

const policy = [
  'rules:',
  '  - name: browser-writes-need-mfa',
  '    when: grant == "authorization_code" && "write-data" in scopes',
  '    then: { obligations: { step_up: { acr: "mfa" } } }',
  '  - name: browser-reports-closed',
  '    when: grant == "authorization_code" && resource == "https://reports.example"',
  '    then: { deny: { reason: "Reports are closed to web apps." } }',
  '  - name: guarded-writes',
  '    when: client.client_id == "guarded" && "write-data" in scopes',
  '    then: { obligations: { consent: { approvers: subject }, step_up: { acr: "mfa" } } }',
  '  - name: finance-devices-need-two',
  '    when: grant == "device_code" && client.client_id == "finance-cli"',
  '    then: { obligations: { consent: { approvers: { dual: { group: Finance } } } } }',
  '  - name: devices-refused',
  '    when: grant == "device_code"',
  '    then: { deny: { reason: "Devices may not act for people here." } }',
  'default: allow',
  '',
].join('\n');

const files = {
  'policies/steps.yaml': policy,
  'consulate.yaml': `${readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8')}ciba:\n  interval_seconds: 1\ndevice:\n  interval_seconds: 1\n`,
  'clients/guarded.yaml': agentYaml('guarded', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]').replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}]`)
    .replace(`\${env:${envName('guarded')}}`, hashSecret(agentSecret('guarded'))),
  'clients/finance-cli.yaml': ['client_id: finance-cli', 'name: Finance CLI', 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
  'clients/device-cli.yaml': ['client_id: device-cli', 'name: Device CLI', 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
};

type Body = Record<string, unknown>;

describe('step-up and deny obligations', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let webApp: client.Configuration;
  let offset = 0;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files, now: () => Math.floor(Date.now() / 1000) + offset }));
    webApp = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  async function start(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(webApp, {
      redirect_uri: redirectUri,
      scope: 'openid email read-data',
      resource: api,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      login_hint: alice,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }
  const granted = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'authorization.granted').length;
  /** Alice signed in at Consulate through Okta at acr pwd (a request no policy touches). */
  async function signedIn(): Promise<Jar> {
    const jar = cookieJar();
    const seen: URL[] = [];
    const outcome = await drive(server, okta, jar, (await start()).url, { username: alice, upstreamOptions: { acr: 'pwd' }, onUpstream: (u) => seen.push(u) });
    expect(redirectParams(outcome, redirectUri).get('code')).toBeTruthy();
    // No policy applied: no acr asked for.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.searchParams.get('acr_values')).toBeNull();
    return jar;
  }

  describe('browser flow', () => {
    it('a step_up obligation: back to the upstream with acr_values=mfa and prompt=login; the code only after, carrying acr mfa', async () => {
      const jar = await signedIn();
      const before = await granted();
      const seen: URL[] = [];
      const { url, verifier, state, nonce } = await start({ scope: 'openid email write-data' });
      const outcome = await drive(server, okta, jar, url, { username: alice, upstreamOptions: { acr: 'mfa' }, onUpstream: (u) => seen.push(u) });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.searchParams.get('acr_values')).toBe('mfa');
      expect(seen[0]!.searchParams.get('prompt')).toBe('login');
      // The browser reaches the application (with the code) only after the upstream step-up.
      const upstreamHop = outcome.hops.findIndex((h) => h.startsWith(okta.url));
      const appHop = outcome.hops.findIndex((h) => h.startsWith(redirectUri));
      expect(upstreamHop).toBeGreaterThanOrEqual(0);
      expect(appHop).toBeGreaterThan(upstreamHop);
      const tokens = await client.authorizationCodeGrant(webApp, new URL(outcome.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      expect(tokens.claims()).toMatchObject({ acr: 'mfa', email: alice });
      expect(tokens.scope?.split(' ')).toContain('write-data');
      expect(await granted()).toBe(before + 1);
    });

    it('a step_up the upstream does not meet: nothing is issued', async () => {
      const jar = await signedIn();
      const before = await granted();
      const seen: URL[] = [];
      const outcome = await drive(server, okta, jar, (await start({ scope: 'openid write-data' })).url, { username: alice, upstreamOptions: { acr: 'pwd' }, onUpstream: (u) => seen.push(u) });
      expect(seen[0]!.searchParams.get('acr_values')).toBe('mfa');
      expect(outcome.location).toBeUndefined();
      expect(outcome.page!.status).toBe(400);
      expect(await granted()).toBe(before);
    });

    it('a session that already meets it: no second trip to the upstream', async () => {
      const jar = cookieJar();
      await drive(server, okta, jar, (await start()).url, { username: alice, upstreamOptions: { acr: 'mfa' } });
      const seen: URL[] = [];
      const outcome = await drive(server, okta, jar, (await start({ scope: 'openid write-data' })).url, { username: alice, onUpstream: (u) => seen.push(u) });
      expect(seen).toHaveLength(0);
      expect(redirectParams(outcome, redirectUri).get('code')).toBeTruthy();
    });

    it('a deny: access_denied at the redirect URI, with state, and no code', async () => {
      const jar = await signedIn();
      const before = await granted();
      const { url, state } = await start({ scope: 'openid reports.read', resource: 'https://reports.example' });
      const params = redirectParams(await drive(server, okta, jar, url, { username: alice }), redirectUri);
      expect(params.get('error')).toBe('access_denied');
      expect(params.get('error_description')).toBe('Reports are closed to web apps.');
      expect(params.get('state')).toBe(state);
      expect(params.get('code')).toBeNull();
      expect(await granted()).toBe(before);
    });
  });

  describe('paused exchange with consent and step-up', () => {
    let agent: client.Configuration;
    beforeAll(async () => {
      agent = await discover(server, 'guarded', client.ClientSecretBasic(agentSecret('guarded')));
    });
    async function refusal(request: Promise<unknown>): Promise<Body> {
      const error = await request.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      return (error as client.ResponseBodyError).cause as Body;
    }
    const poll = (authReqId: string) => {
      offset += 2;
      return client.genericGrantRequest(agent, cibaGrant, { auth_req_id: authReqId });
    };
    const inbox = async (jar: Jar) => {
      const response = await jar.fetch(`${server.url}/approvals`);
      expect(response.status).toBe(200);
      return response.text();
    };
    const approve = (jar: Jar, html: string, id: string) =>
      jar.fetch(`${server.url}/approvals/${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: hiddenFields(html).csrf!, decision: 'approve' }) });

    it('a stale session cannot approve (server-side); after a fresh mfa sign-in through the inbox it can, and the agent gets the Passport', async () => {
      const jar = await signedIn();
      const sub = await server.deps.store.subjects.findByEmail(alice);
      expect(sub).toBeDefined();
      const person: Person = { sub: sub!, claims: (await server.deps.store.subjects.claimsOf(sub!)) ?? {} };
      // Her token from the web app is even at acr mfa: the rule's step-up is still the approver's to meet.
      const { access_token: subjectToken } = await personTokens(server, person, { resourceScopes: ['read-data', 'write-data'] });

      const paused = await refusal(client.genericGrantRequest(agent, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, scope: 'write-data' }));
      expect(paused).toMatchObject({ error: 'authorization_pending' });
      const authReqId = paused.auth_req_id as string;
      const record = (await server.deps.store.approvals.listOpen(server.deps.now())).filter((r) => r.clientId === 'guarded').at(-1)!;
      expect(record.request.stepUp).toEqual({ acr: 'mfa' });
      const id = record.id;

      // The inbox says so.
      const page = await inbox(jar);
      expect(page).toContain(`action="/approvals/${id}"`);
      expect(page).toContain('This needs a fresh sign-in with authentication level mfa');

      // Server-side: an approver without the acr is refused and nothing is recorded.
      const approver = approverFrom(person.sub, person.claims);
      expect((await decideApproval(server.deps, id, approver, 'approve', { authTime: server.deps.now(), acr: 'pwd' })).status).toBe('step_up');
      expect((await decideApproval(server.deps, id, approver, 'approve')).status).toBe('step_up');
      // The JSON API with a Passport of hers at acr pwd: 401 insufficient_user_authentication, naming the acr.
      const { access_token: pwdPassport } = await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [], acr: 'pwd' });
      const api401 = await fetch(`${server.url}/approvals/api/${id}`, { method: 'POST', headers: { authorization: `Bearer ${pwdPassport}`, 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
      expect(api401.status).toBe(401);
      expect(await api401.json()).toMatchObject({ error: 'insufficient_user_authentication' });
      expect(api401.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
      expect(api401.headers.get('www-authenticate')).toContain('acr_values="mfa"');

      // The inbox's Approve with the pwd session: off to Okta for acr mfa, prompt=login.
      const clicked = await approve(jar, page, id);
      expect(clicked.status).toBe(303);
      const toOkta = new URL(clicked.headers.get('location')!);
      expect(toOkta.href.startsWith(okta.url)).toBe(true);
      expect(toOkta.searchParams.get('acr_values')).toBe('mfa');
      expect(toOkta.searchParams.get('prompt')).toBe('login');
      expect(await server.deps.store.approvals.find(id)).toMatchObject({ status: 'pending', decisions: [] });
      expect(await refusal(poll(authReqId))).toMatchObject({ error: 'authorization_pending' });

      // A fresh sign-in at mfa, back to the inbox, Approve again: approved.
      const back = await jar.fetch(await okta.login(toOkta, alice, { acr: 'mfa' }));
      expect(back.status).toBe(303);
      expect(back.headers.get('location')).toBe('/approvals');
      const fresh = await inbox(jar);
      expect(fresh).toContain(`action="/approvals/${id}"`);
      const done = await approve(jar, fresh, id);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`/approvals?decided=${id}`);
      expect(await (await jar.fetch(`${server.url}${done.headers.get('location')}`)).text()).toContain('Approved');
      expect(await server.deps.store.approvals.find(id)).toMatchObject({ status: 'approved' });

      const issued = await poll(authReqId);
      expect(issued).toMatchObject({ issued_token_type: accessTokenType, scope: 'write-data' });
      const claims = (await jwtVerify(issued.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api })).payload;
      expect(claims).toMatchObject({ sub: person.sub, act: { sub: 'guarded' }, client_id: 'guarded', approval: id });
    });
  });

  describe('device flow', () => {
    it('a policy that denies: the page says so, the request is denied and recorded, the device hears access_denied', async () => {
      const cli = await discover(server, 'device-cli', client.None());
      const started = await client.initiateDeviceAuthorization(cli, { scope: 'read-data' });
      const jar = cookieJar();
      const form = await drive(server, okta, jar, `${server.url}/device`, { username: alice });
      expect(form.page?.html).toContain('action="/device"');
      const response = await jar.fetch(`${server.url}/device`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hiddenFields(form.page!.html), user_code: started.user_code }) });
      expect(response.status).toBe(403);
      const html = await response.text();
      expect(html).toContain('Request refused');
      expect(html).toContain('Devices may not act for people here.');
      expect(html).not.toContain('action="/device/decide"');

      const record = (await server.deps.store.audit.list()).filter((r) => r.event === 'approval.decided' && (r.details as Body).approver === 'policy').at(-1);
      expect(record).toBeDefined();
      const approval = await server.deps.store.approvals.find((record!.details as Body).approval as string);
      expect(approval).toMatchObject({ kind: 'device', clientId: 'device-cli', status: 'denied' });
      expect(approval!.decisions).toMatchObject([{ approverSub: 'policy', decision: 'deny' }]);

      offset += 2;
      const error = await client.pollDeviceAuthorizationGrant(cli, started).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).toBe('access_denied');
    });

    it('a policy that wants two approvers from Finance: the request waits in their inbox, not the person\'s, and two of them release it', async () => {
      const cli = await discover(server, 'finance-cli', client.None());
      const started = await client.initiateDeviceAuthorization(cli, { scope: 'read-data' });
      const jar = cookieJar();
      const form = await drive(server, okta, jar, `${server.url}/device`, { username: alice });
      const response = await jar.fetch(`${server.url}/device`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hiddenFields(form.page!.html), user_code: started.user_code }) });
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('Waiting for approval');
      expect(html).toContain('two people of Finance');
      expect(html).not.toContain('action="/device/decide"');

      const claimed = (await server.deps.store.audit.list()).filter((r) => r.event === 'approval.claimed').at(-1);
      const id = (claimed!.details as Body).approval as string;
      const approval = await server.deps.store.approvals.find(id);
      expect(approval).toMatchObject({ kind: 'device', status: 'pending', approvers: { kind: 'dual', group: 'Finance' } });
      // The person who entered the code is not one of the approvers.
      const person = await server.deps.store.subjects.claimsOf(approval!.sub!);
      expect(await decideApproval(server.deps, id, approverFrom(approval!.sub!, person ?? {}), 'approve')).toEqual({ status: 'not_found' });
      const carol = await addPerson(server, 'carol-fin', { email: 'carol@example.test', email_verified: true, groups: ['Finance'] });
      const dan = await addPerson(server, 'dan-fin', { email: 'dan@example.test', email_verified: true, groups: ['Finance'] });
      expect(await decideApproval(server.deps, id, approverFrom(carol.sub, carol.claims), 'approve')).toMatchObject({ status: 'recorded', record: { status: 'pending' } });
      // One approval of two: the device still waits (a raw poll: openid-client would keep polling).
      offset += 2;
      const pending = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: deviceGrant, device_code: started.device_code, client_id: 'finance-cli' }) });
      expect(((await pending.json()) as Body).error).toBe('authorization_pending');
      expect(await decideApproval(server.deps, id, approverFrom(dan.sub, dan.claims), 'approve')).toMatchObject({ status: 'recorded', record: { status: 'approved' } });
      offset += 2;
      const tokens = await client.pollDeviceAuthorizationGrant(cli, { ...started, interval: 1 });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: approval!.sub, approval: id, client_id: 'finance-cli' });
    });
  });
});
