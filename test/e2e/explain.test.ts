// "Why was this token (not) minted?" for every grant, end to end: a real Consulate with a stand-in
// Okta, a policy file, agents and a trusted assertion issuer. Each token response carries its
// receipt id (Consulate-Receipt); GET /receipts/<id> returns the receipt and its explanation, which
// names the step that decided — the delegation policy, a policy rule, an approval, the person's
// grant — and for a refusal the exact failed step and rule. Also who may read a receipt: its
// subject and its client; another person, another client, a public client: 404 or 401.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { approverFrom } from '../../src/consent/approvers.ts';
import { decideApproval } from '../../src/consent/approvals.ts';
import { enterUserCode } from '../../src/consent/device-request.ts';
import { drive, redirectParams, startWithOkta } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, discover, postForm, type Answer } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import { clientKey, type ClientKey } from './support/keys.ts';
import type { Upstream } from './support/upstreams.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const redirectUri = 'https://app.example.test/callback';
const partner = 'https://partner.example.test';
const alice = 'alice@example.com';

const policy = [
  'rules:',
  '  - name: web-writes-need-mfa',
  '    when: grant == "authorization_code" && "write-data" in scopes',
  '    then: { obligations: { step_up: { acr: "mfa" } } }',
  '  - name: agent-writes-need-consent',
  '    when: client.client_id == "shopper" && grant == "token_exchange" && "write-data" in scopes',
  '    then: { obligations: { consent: { approvers: subject } } }',
  '  - name: partners-read-only',
  '    when: grant == "jwt_bearer" && "write-data" in scopes',
  '    then: { deny: { reason: "Partners may only read." } }',
  'default: allow',
  '',
].join('\n');

const withSecret = (id: string, yaml: string) => yaml.replace(`\${env:${envName(id)}}`, hashSecret(agentSecret(id)));

function files(partnerKey: ClientKey): Record<string, string> {
  return {
    'policies/orders.yaml': policy,
    'consulate.yaml': `${readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8')}ciba:\n  interval_seconds: 1\ndevice:\n  interval_seconds: 1\n`,
    'clients/shopper.yaml': withSecret('shopper', agentYaml('shopper', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]').replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}]`)),
    'clients/partner-agent.yaml': withSecret('partner-agent', agentYaml('partner-agent', 'act_for: { anyone: true }\njwt_bearer_issuers: [partner]').replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [${jwtBearer}]`)),
    'clients/device-cli.yaml': ['client_id: device-cli', 'name: Device CLI', 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
    'issuers/partner.yaml': `id: partner\nissuer: ${partner}\njwks: ${JSON.stringify({ keys: [partnerKey.jwk] })}\naccepts: [jwt-bearer]\n`,
  };
}

type Explained = { receipt: Record<string, any>; explanation: { outcome: string; summary: string; decided?: { step: string; rule?: string }; lines: string[] } };

describe('explain: the decision trail of every grant', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let partnerKey: ClientKey;
  let webApp: client.Configuration;
  let offset = 0;
  let aliceSub: string;
  /** Alice's Passport for the demo API (read-data write-data) and her refresh token, from a real sign-in. */
  let passport: string;
  let refreshToken: string;

  const webAppAuth = { authorization: basicAuth('web-app', secrets['web-app']) };
  const shopperAuth = { authorization: basicAuth('shopper', agentSecret('shopper')) };

  beforeAll(async () => {
    partnerKey = await clientKey('ES256', 'partner-1');
    ({ server, okta, stop } = await startWithOkta({ files: files(partnerKey), now: () => Math.floor(Date.now() / 1000) + offset }));
    webApp = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  /** A code from a real /authorize through Okta (at acr mfa), and its verifier. */
  async function authorize(scope: string): Promise<{ code: string; verifier: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(webApp, {
      redirect_uri: redirectUri,
      scope,
      resource: api,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: client.randomState(),
      login_hint: alice,
    });
    const outcome = await drive(server, okta, cookieJar(), url, { username: alice, upstreamOptions: { acr: 'mfa' } });
    return { code: redirectParams(outcome, redirectUri).get('code')!, verifier };
  }
  const receiptOf = (answer: Answer): string => {
    const id = answer.headers.get('consulate-receipt');
    expect(id, answer.text).toMatch(/^[0-9a-f]{8}-[0-9a-f-]{27}$/);
    return id as string;
  };
  /** GET /receipts/<id> with `auth` headers: the receipt and its explanation. */
  async function read(id: string, auth: Record<string, string>): Promise<Explained> {
    const response = await fetch(`${server.url}/receipts/${id}`, { headers: auth });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return (await response.json()) as Explained;
  }
  const poll = (form: Record<string, string>, auth: Record<string, string>) => {
    offset += 2;
    return postForm(server, '/token', form, auth);
  };

  describe('authorization_code and refresh_token', () => {
    it('issued: the policy rule that decided at /authorize, the resource and scopes granted, the claims\' mapping rules', async () => {
      const { code, verifier } = await authorize('openid email read-data write-data');
      const answer = await postForm(server, '/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, webAppAuth);
      expect(answer.status, answer.text).toBe(200);
      passport = answer.body.access_token as string;
      refreshToken = answer.body.refresh_token as string;
      const { receipt, explanation } = await read(receiptOf(answer), webAppAuth);
      aliceSub = receipt.subject as string;
      expect(explanation.summary).toBe(`Passport issued to web-app for sub ${aliceSub} at ${api} (authorization code)`);
      expect(explanation.decided).toEqual({ step: 'grant.obligations', rule: 'orders/web-writes-need-mfa' });
      expect(explanation.lines).toEqual(expect.arrayContaining([
        'client authentication: client_secret_basic',
        `resource ${api}: the one the person granted`,
        'scopes: read-data write-data openid email (asked: read-data write-data openid email)',
        'obligation: policy orders, rule web-writes-need-mfa: required step_up acr=mfa',
        'DPoP: not bound (Bearer)',
      ]));
      // Provenance: the upstream, its issuer, the rule set and the rule behind each claim (never a value).
      const identity = explanation.lines.find((line) => line.startsWith('identity: '));
      expect(identity).toContain(`rule set preset:okta of upstream okta (orig_iss ${okta.issuer})`);
      expect(identity).toContain('email ← claims.email');
      expect(identity).toContain('orig_sub ← subject');
      expect(identity).not.toContain(alice);
    });

    it('refused: a PKCE verifier that does not match, at the grant\'s code step', async () => {
      const { code } = await authorize('openid read-data');
      const answer = await postForm(server, '/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: randomBytes(32).toString('base64url') }, webAppAuth);
      expect(answer.body).toMatchObject({ error: 'invalid_grant' });
      const { explanation } = await read(receiptOf(answer), webAppAuth);
      expect(explanation.outcome).toBe('refused');
      expect(explanation.decided).toEqual({ step: 'grant.code', rule: 'pkce_verifier_mismatch' });
    });

    it('refresh issued (narrowed), and refused for a scope never granted', async () => {
      const refreshed = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'read-data' }, webAppAuth);
      expect(refreshed.status, refreshed.text).toBe(200);
      refreshToken = refreshed.body.refresh_token as string;
      const { explanation } = await read(receiptOf(refreshed), webAppAuth);
      expect(explanation.summary).toBe(`Passport issued to web-app for sub ${aliceSub} at ${api} (refresh token)`);
      expect(explanation.lines).toContain('scopes: read-data (asked: read-data)');
      // Issued under the grant the policy let through at /authorize.
      expect(explanation.decided).toEqual({ step: 'grant.obligations', rule: 'orders/web-writes-need-mfa' });

      const wider = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'read-data reports.read' }, webAppAuth);
      expect(wider.body).toMatchObject({ error: 'invalid_scope' });
      const refused = await read(receiptOf(wider), webAppAuth);
      expect(refused.explanation.decided).toEqual({ step: 'grant.scopes', rule: 'scope not granted: reports.read' });
    });
  });

  describe('token exchange', () => {
    it('issued: the delegation policy and its chain, the policy file\'s default rule', async () => {
      const answer = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: passport, subject_token_type: accessTokenType, scope: 'read-data' }, shopperAuth);
      expect(answer.status, answer.text).toBe(200);
      const { receipt, explanation } = await read(receiptOf(answer), shopperAuth);
      expect(receipt).toMatchObject({ event: 'passport.exchanged', client_id: 'shopper', subject: aliceSub });
      expect(explanation.summary).toBe(`Passport issued to shopper for sub ${aliceSub} at ${api} (token exchange)`);
      expect(explanation.decided).toEqual({ step: 'grant.obligations', rule: 'orders/default' });
      expect(explanation.lines).toEqual(expect.arrayContaining([
        `resource ${api}: the subject token's own audience`,
        'scopes: read-data (asked: read-data)',
        'delegation policy: allowed; actor chain shopper (current actor first)',
        'obligation: policy orders, rule default: allowed',
      ]));
      expect(explanation.lines.find((line) => line.startsWith('subject from: passport (token jti '))).toBeDefined();
    });

    it('paused by a consent rule, then issued on the person\'s approval, which the explanation names', async () => {
      const paused = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: passport, subject_token_type: accessTokenType, scope: 'write-data' }, shopperAuth);
      expect(paused.body).toMatchObject({ error: 'authorization_pending' });
      const pending = await read(receiptOf(paused), shopperAuth);
      expect(pending.explanation.outcome).toBe('pending');
      expect(pending.explanation.decided?.step).toBe('grant.obligations');
      expect(pending.explanation.decided?.rule).toMatch(/^paused_for_approval:orders\/agent-writes-need-consent:/);
      expect(pending.explanation.lines).toContain('obligation: policy orders, rule agent-writes-need-consent: required consent subject');

      const approvalId = pending.receipt.details.trail.approval.id as string;
      const person = (await server.deps.store.subjects.claimsOf(aliceSub)) ?? {};
      expect((await decideApproval(server.deps, approvalId, approverFrom(aliceSub, person), 'approve')).status).toBe('recorded');
      const issued = await poll({ grant_type: cibaGrant, auth_req_id: paused.body.auth_req_id as string }, shopperAuth);
      expect(issued.status, issued.text).toBe(200);
      const { explanation } = await read(receiptOf(issued), shopperAuth);
      expect(explanation.decided).toEqual({ step: 'grant.approval', rule: approvalId });
      expect(explanation.lines).toEqual(expect.arrayContaining([
        `approval ${approvalId} (approvers: subject): approved by ${aliceSub}`,
        'obligation: policy orders, rule agent-writes-need-consent: required consent subject',
        `resource ${api}: the one the approved request named`,
      ]));
      expect(explanation.lines.find((line) => line.startsWith('identity: rule set preset:okta of upstream okta'))).toContain('email ← claims.email');
    });

    it('refused: a scope wider than the subject token\'s, at the grant\'s scope step', async () => {
      const { access_token: narrow } = await personTokens(server, { sub: aliceSub, claims: (await server.deps.store.subjects.claimsOf(aliceSub)) ?? {} });
      const answer = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: narrow, subject_token_type: accessTokenType, scope: 'write-data' }, shopperAuth);
      expect(answer.body).toMatchObject({ error: 'invalid_scope' });
      const { explanation } = await read(receiptOf(answer), shopperAuth);
      expect(explanation.decided).toEqual({ step: 'grant.scopes', rule: 'scope_widened' });
      expect(explanation.lines).toContain('scopes asked: write-data');
    });
  });

  describe('JWT bearer', () => {
    async function assertion(): Promise<string> {
      const t = Math.floor(Date.now() / 1000) + offset;
      return new SignJWT({ iss: partner, sub: 'p-ada', aud: server.issuer, iat: t, exp: t + 60, jti: randomUUID(), email: 'ada@partner.example' })
        .setProtectedHeader({ alg: 'ES256', kid: partnerKey.kid })
        .sign(partnerKey.privateKey);
    }
    const auth = { authorization: basicAuth('partner-agent', agentSecret('partner-agent')) };

    it('issued: the assertion\'s issuer and the mapping as it ran; refused by a policy deny rule', async () => {
      const answer = await postForm(server, '/token', { grant_type: jwtBearer, assertion: await assertion(), scope: 'read-data' }, auth);
      expect(answer.status, answer.text).toBe(200);
      const { explanation } = await read(receiptOf(answer), auth);
      expect(explanation.summary).toMatch(/^Passport issued to partner-agent for sub \S+ at https:\/\/api\.demo\.example \(JWT bearer\)$/);
      expect(explanation.decided).toEqual({ step: 'grant.obligations', rule: 'orders/default' });
      expect(explanation.lines).toEqual(expect.arrayContaining(['assertion: jwt-bearer from trusted issuer partner', `resource ${api}: the only resource the client may use`]));
      expect(explanation.lines.find((line) => line.startsWith('identity: '))).toMatch(new RegExp(`^identity: rule set \\S+ of upstream issuer:partner \\(orig_iss ${partner}\\): .*email ← claims\\.email`));

      const denied = await postForm(server, '/token', { grant_type: jwtBearer, assertion: await assertion(), scope: 'write-data' }, auth);
      expect(denied.body).toMatchObject({ error: 'access_denied' });
      const refused = await read(receiptOf(denied), auth);
      expect(refused.explanation.decided).toEqual({ step: 'grant.obligations', rule: 'policy_denied:orders/partners-read-only' });
      expect(refused.explanation.lines).toContain('obligation: policy orders, rule partners-read-only: denied');
    });
  });

  describe('CIBA', () => {
    const ask = async () => {
      const started = await postForm(server, '/bc-authorize', { scope: 'openid read-data', login_hint: alice }, shopperAuth);
      expect(started.status, started.text).toBe(200);
      return started.body.auth_req_id as string;
    };
    const decide = async (authReqId: string, decision: 'approve' | 'deny') => {
      const record = (await server.deps.store.approvals.listOpen(server.deps.now())).filter((r) => r.clientId === 'shopper' && r.kind === 'ciba').at(-1)!;
      expect((await decideApproval(server.deps, record.id, approverFrom(aliceSub, (await server.deps.store.subjects.claimsOf(aliceSub)) ?? {}), decision)).status).toBe('recorded');
      return { id: record.id, authReqId };
    };

    it('pending, then issued on the person\'s approval; denied when she denies', async () => {
      const authReqId = await ask();
      const early = await poll({ grant_type: cibaGrant, auth_req_id: authReqId }, shopperAuth);
      expect(early.body).toMatchObject({ error: 'authorization_pending' });
      expect((await read(receiptOf(early), shopperAuth)).explanation).toMatchObject({ outcome: 'pending', decided: { step: 'grant.approval', rule: 'pending' } });

      const { id } = await decide(authReqId, 'approve');
      const issued = await poll({ grant_type: cibaGrant, auth_req_id: authReqId }, shopperAuth);
      expect(issued.status, issued.text).toBe(200);
      const { explanation } = await read(receiptOf(issued), shopperAuth);
      expect(explanation.summary).toBe(`Passport issued to shopper for sub ${aliceSub} at ${api} (CIBA)`);
      expect(explanation.decided).toEqual({ step: 'grant.approval', rule: id });
      expect(explanation.lines).toEqual(expect.arrayContaining([
        `approval ${id} (approvers: subject): approved by ${aliceSub}`,
        'delegation policy: allowed; actor chain shopper (current actor first)',
        'obligation: policy orders, rule default: allowed',
      ]));

      const second = await ask();
      const denial = await decide(second, 'deny');
      const denied = await poll({ grant_type: cibaGrant, auth_req_id: second }, shopperAuth);
      expect(denied.body).toMatchObject({ error: 'access_denied' });
      const refused = await read(receiptOf(denied), shopperAuth);
      expect(refused.explanation.decided).toEqual({ step: 'grant.approval', rule: 'denied' });
      expect(refused.explanation.lines).toContain(`approval ${denial.id} (approvers: subject): denied by ${aliceSub}`);
    });
  });

  describe('device code', () => {
    it('issued on the approval of the person who entered the code; refused once she denies another', async () => {
      const start = async () => {
        const started = await postForm(server, '/device_authorization', { client_id: 'device-cli', scope: 'read-data' });
        expect(started.status, started.text).toBe(200);
        const entered = await enterUserCode(server.deps, started.body.user_code as string, aliceSub);
        expect(entered.status).toBe('mine');
        return { deviceCode: started.body.device_code as string, id: (entered as { record: { id: string } }).record.id };
      };
      const claims = (await server.deps.store.subjects.claimsOf(aliceSub)) ?? {};
      const approved = await start();
      expect((await decideApproval(server.deps, approved.id, approverFrom(aliceSub, claims), 'approve')).status).toBe('recorded');
      const issued = await poll({ grant_type: deviceGrant, device_code: approved.deviceCode, client_id: 'device-cli' }, {});
      expect(issued.status, issued.text).toBe(200);
      // A public client: it reads nothing here, but the explanation is in the receipt for operators and for her.
      const record = await server.deps.store.audit.find(receiptOf(issued));
      expect(record?.details.trail).toMatchObject({ client_auth: 'none', approval: { id: approved.id, approved_by: [aliceSub] }, obligation: { policy: 'orders', rule: 'default', outcome: 'allow' } });

      const deniedOne = await start();
      expect((await decideApproval(server.deps, deniedOne.id, approverFrom(aliceSub, claims), 'deny')).status).toBe('recorded');
      const denied = await poll({ grant_type: deviceGrant, device_code: deniedOne.deviceCode, client_id: 'device-cli' }, {});
      expect(denied.body).toMatchObject({ error: 'access_denied' });
      const { access_token: own } = await personTokens(server, { sub: aliceSub, claims }, { resource: undefined, resourceScopes: [] });
      const { explanation } = await read(receiptOf(denied), { authorization: `Bearer ${own}` });
      expect(explanation.summary).toBe("Refused: device-cli's device code request, access_denied at step grant.approval (denied)");
      expect(explanation.lines).toContain(`approval ${deniedOne.id} (approvers: subject): denied by ${aliceSub}`);
      expect(explanation.lines).toContain('client authentication: none');
    });
  });

  describe('GET /receipts/<id>: who may read a receipt', () => {
    let id: string;
    let bob: Person;
    beforeAll(async () => {
      const answer = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: passport, subject_token_type: accessTokenType, scope: 'read-data' }, shopperAuth);
      id = receiptOf(answer);
      bob = await addPerson(server, 'bob-reader', { email: 'bob@example.test', email_verified: true });
    });
    const ownPassport = async (person: Person) => (await personTokens(server, person, { resource: undefined, resourceScopes: [] })).access_token;

    it('its subject, with her own Passport for Consulate; its client, authenticated', async () => {
      const her = await ownPassport({ sub: aliceSub, claims: (await server.deps.store.subjects.claimsOf(aliceSub)) ?? {} });
      expect((await read(id, { authorization: `Bearer ${her}` })).receipt.id).toBe(id);
      expect((await read(id, shopperAuth)).explanation.summary).toContain('Passport issued to shopper');
      // A client authenticating in the form (POST), as at /introspect.
      const posted = await postForm(server, `/receipts/${id}`, { client_id: 'shopper', client_secret: agentSecret('shopper') });
      expect(posted.status).toBe(401); // shopper is registered for client_secret_basic only
      const basic = await fetch(`${server.url}/receipts/${id}`, { method: 'POST', headers: { ...shopperAuth, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      expect(basic.status).toBe(200);
    });

    it('another person, another client, an unknown id: 404 alike; a public client and a Passport for a resource: 401; nobody: 401', async () => {
      const other = await fetch(`${server.url}/receipts/${id}`, { headers: { authorization: `Bearer ${await ownPassport(bob)}` } });
      expect(other.status).toBe(404);
      const notFound = await other.json();
      const otherClient = await fetch(`${server.url}/receipts/${id}`, { headers: { authorization: basicAuth('agent-basic', secrets['agent-basic']) } });
      expect(otherClient.status).toBe(404);
      expect(await otherClient.json()).toEqual(notFound);
      const unknown = await fetch(`${server.url}/receipts/${randomUUID()}`, { headers: shopperAuth });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual(notFound);

      const publicClient = await postForm(server, `/receipts/${id}`, { client_id: 'device-cli' });
      expect(publicClient.status).toBe(401);
      expect(publicClient.body).toMatchObject({ error: 'invalid_client' });
      // Her Passport for the demo API: the API could replay it here; refused.
      const forApi = await fetch(`${server.url}/receipts/${id}`, { headers: { authorization: `Bearer ${passport}` } });
      expect(forApi.status).toBe(401);
      expect(forApi.headers.get('www-authenticate')).toContain('error="invalid_token"');

      const nobody = await fetch(`${server.url}/receipts/${id}`);
      expect(nobody.status).toBe(401);
      expect(nobody.headers.get('www-authenticate')).toContain('Bearer');
      expect(await nobody.text()).toBe('');
    });

    it('/receipts/checkpoint still answers the signed checkpoint', async () => {
      const response = await fetch(`${server.url}/receipts/checkpoint`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ checkpoint: expect.any(String), seq: expect.any(Number) });
    });
  });
});
