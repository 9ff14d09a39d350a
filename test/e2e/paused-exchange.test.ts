// Policies at token exchange, against a real server: a consent obligation pauses the exchange
// (authorization_pending with an auth_req_id, nothing minted) until the approvers decide through
// the approvals JSON API with their own Passports; the agent collects exactly the approved
// Passport by polling the CIBA grant with openid-client. Denials, other clients, second polls,
// deny rules, step-up and dual approval; an agent's own Passports are no key to the approvals API;
// and `consulate policy explain` as an operator runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { consulateCommand } from './support/cli.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { discover } from './support/clients.ts';
import { accessTokenType, addPerson, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const root = resolve(import.meta.dirname, '../..');

const policy = [
  'rules:',
  '  - name: refused-agent',
  '    when: client.client_id == "refused"',
  '    then: { deny: { reason: "This agent may not act for people." } }',
  '  - name: hardware-key',
  '    when: client.client_id == "stepper"',
  '    then: { obligations: { step_up: { acr: "urn:consulate:acr:hardware" } } }',
  '  - name: mfa-recent',
  '    when: client.client_id == "stepper-ok"',
  '    then: { obligations: { step_up: { acr: "urn:consulate:acr:mfa", max_age: 600 } } }',
  '  - name: treasury-writes',
  '    when: client.client_id == "treasurer" && "write-data" in scopes',
  '    then: { obligations: { consent: { approvers: { dual: { group: Finance } } } } }',
  '  - name: agent-writes',
  '    when: client.kind == "agent" && "write-data" in scopes',
  '    then: { obligations: { consent: { approvers: subject, validity_seconds: 120 } } }',
  'default: allow',
  '',
].join('\n');

const withCiba = (yaml: string) => yaml.replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}]`);
const delegation = 'act_for: { anyone: true }\nsubject_token_clients: [web-app]';
const agents = ['writer', 'other', 'refused', 'stepper', 'stepper-ok', 'treasurer'];

type Body = Record<string, unknown>;

describe('paused token exchange (policies with consent)', () => {
  let server: TestConsulate;
  let ada: Person;
  let fin1: Person;
  let fin2: Person;
  let offset = 0;
  const now = () => Math.floor(Date.now() / 1000) + offset;
  const configs = new Map<string, client.Configuration>();

  beforeAll(async () => {
    const files: Record<string, string> = {
      'policies/agents.yaml': policy,
      'consulate.yaml': `${readFileSync(resolve(root, 'test/fixtures/config/consulate.yaml'), 'utf8')}ciba:\n  interval_seconds: 1\n`,
    };
    for (const id of agents) files[`clients/${id}.yaml`] = withCiba(agentYaml(id, delegation));
    const env = Object.fromEntries(agents.map((id) => [envName(id), hashSecret(agentSecret(id))]));
    server = await startConsulate({ now, files, env });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['Finance'] });
    fin1 = await addPerson(server, 'fin1', { email: 'fin1@example.test', email_verified: true, groups: ['Finance'] });
    fin2 = await addPerson(server, 'fin2', { email: 'fin2@example.test', email_verified: true, groups: ['Finance'] });
    for (const id of agents) configs.set(id, await discover(server, id, client.ClientSecretBasic(agentSecret(id))));
  });
  afterAll(async () => server?.stop());

  const verify = async (token: string) => (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt' })).payload;
  const adaToken = async () => (await personTokens(server, ada, { resourceScopes: ['read-data', 'write-data'] })).access_token;
  const exchange = (agent: string, subjectToken: string, extra: Record<string, string> = {}) =>
    client.genericGrantRequest(configs.get(agent)!, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, ...extra });
  /** The error body of a refused grant request (openid-client's ResponseBodyError keeps it as cause). */
  async function refusal(request: Promise<unknown>): Promise<Body> {
    const error = await request.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    return (error as client.ResponseBodyError).cause as Body;
  }
  /** A poll of the CIBA grant, later than the interval after the last one. */
  const poll = (agent: string, authReqId: string) => {
    offset += 2;
    return client.genericGrantRequest(configs.get(agent)!, cibaGrant, { auth_req_id: authReqId });
  };
  /** A person decides through the approvals JSON API with their own Passport (aud = issuer, from web-app). */
  const decide = async (id: string, person: Person | string, decision: 'approve' | 'deny' = 'approve') => {
    const passport = typeof person === 'string' ? person : (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const response = await fetch(`${server.url}/approvals/api/${id}`, { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision }) });
    return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Body };
  };
  const statusOf = async (id: string) => (await server.deps.store.approvals.find(id))?.status;
  const delegations = async () => (await server.deps.store.delegations.list({}, now())).length;
  const approvalIdOf = async (agent: string) => {
    const open = await server.deps.store.approvals.listOpen(now());
    const record = open.filter((r) => r.clientId === agent && r.kind === 'exchange').at(-1);
    expect(record).toBeDefined();
    return record!.id;
  };

  it('records a pause as a receipt of its own (passport.paused, naming its approval), not as a denial', async () => {
    await refusal(exchange('writer', await adaToken(), { scope: 'write-data' }));
    const id = await approvalIdOf('writer');
    const records = await server.deps.store.audit.list({ limit: 1000 });
    const last = records.filter((r) => r.clientId === 'writer' && r.event.startsWith('passport.')).at(-1);
    expect(last).toMatchObject({ event: 'passport.paused', subject: ada.sub, details: { approval: id, reason: `paused_for_approval:agents/agent-writes:${id}`, trail: { approval: { id, approvers: 'subject' } } } });
    expect(records.filter((r) => r.event === 'passport.denied' && String(r.details.reason).startsWith('paused_for_approval:'))).toEqual([]);
  });

  it('pauses, then issues exactly the approved Passport to the agent that polls', async () => {
    const subjectToken = await adaToken();
    const before = await delegations();
    const paused = await refusal(exchange('writer', subjectToken, { scope: 'write-data' }));
    expect(paused).toMatchObject({ error: 'authorization_pending', interval: 1 });
    expect(typeof paused.auth_req_id).toBe('string');
    expect(paused.expires_in).toBe(120);
    // Nothing minted, nothing delegated yet.
    expect(await delegations()).toBe(before);
    const authReqId = paused.auth_req_id as string;

    // Until the person decides: pending.
    expect(await refusal(poll('writer', authReqId))).toMatchObject({ error: 'authorization_pending' });
    // Another client's poll: as if the id were unknown.
    expect(await refusal(poll('other', authReqId))).toMatchObject({ error: 'invalid_grant' });

    const id = await approvalIdOf('writer');
    // Someone else may not decide a subject approval.
    expect(await decide(id, fin1)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await statusOf(id)).toBe('pending');
    expect(await decide(id, ada)).toMatchObject({ status: 200, body: { approval: id, decision: 'approve', outcome: 'approved' } });

    const issued = await poll('writer', authReqId);
    expect(issued).toMatchObject({ issued_token_type: accessTokenType, scope: 'write-data', token_type: 'bearer' });
    const claims = await verify(issued.access_token);
    expect(claims).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, azp: 'writer', client_id: 'writer', scope: 'write-data', approval: id });
    expect(await delegations()).toBe(before + 1);

    // Once only.
    expect(await refusal(poll('writer', authReqId))).toMatchObject({ error: 'invalid_grant' });
  });

  it('works with pollBackchannelAuthenticationGrant given the pending answer', async () => {
    offset = 0;
    const paused = await refusal(exchange('writer', await adaToken(), { scope: 'write-data' }));
    const id = await approvalIdOf('writer');
    const decision = new Promise<Awaited<ReturnType<typeof decide>>>((done, fail) => setTimeout(() => decide(id, ada).then(done, fail), 1200));
    const issued = await client.pollBackchannelAuthenticationGrant(configs.get('writer')!, { auth_req_id: paused.auth_req_id as string, expires_in: paused.expires_in as number, interval: paused.interval as number });
    expect(await verify(issued.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, scope: 'write-data', approval: id });
    expect((await decision).body).toMatchObject({ outcome: 'approved' });
  });

  it('a denial answers access_denied and mints nothing', async () => {
    const before = await delegations();
    const paused = await refusal(exchange('writer', await adaToken(), { scope: 'write-data' }));
    const id = await approvalIdOf('writer');
    expect(await decide(id, ada, 'deny')).toMatchObject({ status: 200, body: { outcome: 'denied' } });
    expect(await refusal(poll('writer', paused.auth_req_id as string))).toMatchObject({ error: 'access_denied' });
    expect(await delegations()).toBe(before);
  });

  it('what the policies do not cover is issued at once', async () => {
    const result = await exchange('writer', await adaToken(), { scope: 'read-data' });
    expect(await verify(result.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, scope: 'read-data' });
    expect((await verify(result.access_token)).approval).toBeUndefined();
  });

  it('a deny rule refuses with access_denied and its reason', async () => {
    expect(await refusal(exchange('refused', await adaToken(), { scope: 'read-data' }))).toEqual({ error: 'access_denied', error_description: 'This agent may not act for people.' });
  });

  it('a step_up rule refuses with insufficient_user_authentication unless the subject already meets it', async () => {
    const body = await refusal(exchange('stepper', await adaToken(), { scope: 'read-data' }));
    expect(body).toMatchObject({ error: 'insufficient_user_authentication', acr_values: 'urn:consulate:acr:hardware' });
    // personTokens authenticate with acr mfa 30 s ago: within max_age 600.
    const ok = await exchange('stepper-ok', await adaToken(), { scope: 'read-data' });
    expect(await verify(ok.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'stepper-ok' } });
  });

  it('a dual rule needs two different approvers of the group, never the person represented', async () => {
    const paused = await refusal(exchange('treasurer', await adaToken(), { scope: 'write-data' }));
    const authReqId = paused.auth_req_id as string;
    const id = await approvalIdOf('treasurer');
    // Ada is in Finance, but she is the person represented.
    expect(await decide(id, ada)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await decide(id, fin1)).toMatchObject({ status: 200, body: { outcome: 'pending' } });
    expect(await refusal(poll('treasurer', authReqId))).toMatchObject({ error: 'authorization_pending' });
    expect(await decide(id, fin1)).toMatchObject({ status: 409, body: { error: 'invalid_request', error_description: 'you have already decided on this request' } });
    expect(await decide(id, fin2)).toMatchObject({ status: 200, body: { outcome: 'approved' } });
    const issued = await poll('treasurer', authReqId);
    expect(await verify(issued.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'treasurer' }, scope: 'write-data', approval: id });
  });

  it("an agent's own credentials and Passports cannot approve, not even a person Passport it got by CIBA", async () => {
    const paused = await refusal(exchange('writer', await adaToken(), { scope: 'write-data' }));
    const id = await approvalIdOf('writer');
    const lastReason = () => server.logs.filter((line) => line.path === `/approvals/api/${id}` && line.reason !== undefined).at(-1)?.reason;
    const refusedWith = async (credential: string, reason: string, status = 401) => {
      const answer = await decide(id, credential);
      expect(answer.status).toBe(status);
      expect(lastReason()).toBe(reason);
      expect(await statusOf(id)).toBe('pending');
      return answer;
    };

    // Its client credentials are no Bearer token.
    const basic = await fetch(`${server.url}/approvals/api/${id}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`writer:${agentSecret('writer')}`).toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer');
    expect(await statusOf(id)).toBe('pending');
    // Its client_credentials Passport (for the API, no person).
    const own = await client.clientCredentialsGrant(configs.get('writer')!, { resource: api, scope: 'read-data' });
    expect((await refusedWith(own.access_token, 'audience_not_consulate')).challenge).toContain('error="invalid_token"');
    // A Passport delegated to it by Ada's exchange (act: writer).
    const delegated = await exchange('writer', await adaToken(), { scope: 'read-data' });
    await refusedWith(delegated.access_token, 'audience_not_consulate');
    // Ada's Passport for Consulate, which another agent obtained by CIBA with her approval:
    // aud = issuer, a person grant, the agent in act (it acts for her); refused.
    const ciba = await client.initiateBackchannelAuthentication(configs.get('other')!, { scope: 'openid', login_hint: 'ada@example.test' });
    const cibaId = (await server.deps.store.approvals.listOpen(now())).find((r) => r.clientId === 'other' && r.kind === 'ciba')!.id;
    expect(await decide(cibaId, ada)).toMatchObject({ status: 200, body: { outcome: 'approved' } });
    offset += 2;
    const viaCiba = await client.pollBackchannelAuthenticationGrant(configs.get('other')!, ciba);
    expect(decodeJwt(viaCiba.access_token)).toMatchObject({ aud: server.issuer, sub: ada.sub, client_id: 'other', auth_time: expect.any(Number) });
    expect(decodeJwt(viaCiba.access_token).act).toEqual({ sub: 'other' });
    await refusedWith(viaCiba.access_token, 'delegated_passport');
    const listed = await fetch(`${server.url}/approvals/api`, { headers: { authorization: `Bearer ${viaCiba.access_token}` } });
    expect(listed.status).toBe(401);

    // Ada herself still can, and the agent's poll then gets the Passport.
    expect(await decide(id, ada)).toMatchObject({ status: 200, body: { outcome: 'approved' } });
    expect(await verify((await poll('writer', paused.auth_req_id as string)).access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, approval: id });
  });
});

describe('consulate policy explain', () => {
  const run = (args: string[], input?: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(...consulateCommand(args), { cwd: root, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONSULATE_'))), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('error', fail);
      child.once('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr });
      });
      child.stdin.end(input ?? '');
    });
  let tmp: string;
  let sample: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'consulate-policy-'));
    sample = join(tmp, 'sample.json');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('shows the rule that matched and what it returned (demo policy)', async () => {
    const request = { client: 'digital-assistant', person: { email: 'ada@example.com' }, scopes: 'read-data write-data', resource: 'https://api.demo.example' };
    const text = await run(['policy', 'explain', '-'], JSON.stringify(request));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('config/policies/demo.yaml');
    expect(text.stdout).toMatch(/payments-over-100\s+not matched/);
    expect(text.stdout).toMatch(/agent-writes\s+matched/);
    expect(text.stdout).toContain('decision: obligations by demo/agent-writes: consent of "subject" within 300 s');

    const payment = { ...request, scopes: ['read-data'], details: [{ type: 'payment', instructedAmount: { amount: '250.00', currency: 'EUR' } }] };
    writeFileSync(sample, JSON.stringify(payment));
    const json = await run(['policy', 'explain', sample, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ decision: 'obligations', policy: 'demo', rule: 'payments-over-100', consent: { approvers: { dual: { group: 'Finance' } }, validitySeconds: 900 } });
  });

  it('reports a bad sample and has --help', async () => {
    const bad = await run(['policy', 'explain', '-'], '{"client": "nobody"}');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no client nobody');
    const help = await run(['policy', 'explain', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: consulate policy explain /);
  });
});
