// Delegation budgets against a real server: a person's Passport exchanged by an agent whose policy
// gives the delegation a budget; the resource server reports usage at POST /delegations/usage and
// introspection shows what is left. Parallel reports never overspend; a spent or revoked delegation
// takes nothing more and its Passports can no longer be exchanged. Pins travel unchanged.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const pins = { schema: `sha256:${'a'.repeat(64)}`, plan: `sha256:${'b'.repeat(64)}` };
const demoApiResource = readFileSync(resolve(import.meta.dirname, '../fixtures/config/resources/demo-api.yaml'), 'utf8');

const agents = {
  // Starts delegations for the web app's people with a budget of 5 uses and 100 USD.
  shopper: agentYaml(
    'shopper',
    'act_for: { anyone: true }\nsubject_token_clients: [web-app]\nmax_chain: 2',
    `  ${api}:\n    scopes: [read-data]\n    budget: { uses: 5, amount: "100", currency: USD }`,
  ),
  // Hop 2: exchanges the shopper's Passports (joining their delegation).
  courier: agentYaml('courier', 'act_for: { anyone: true }\nsubject_token_clients: [shopper]\nmax_chain: 2', `  ${api}:\n    scopes: [read-data]`),
};
// A second resource server of the demo API, to show usage ids are each reporter's own.
const billingSecret = 'billing-api-secret-0123456789abcdefghijklmnopqrst';
const billingYaml = ['client_id: billing-api', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: \${env:${envName('billing-api')}}`, 'grant_types: []', `introspects: [${api}]`].join('\n');

describe('delegation budgets and the usage endpoint', () => {
  let server: TestConsulate;
  let ada: Person;
  const configs = new Map<string, client.Configuration>();
  const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };
  const billingApi = { authorization: basicAuth('billing-api', billingSecret) };

  beforeAll(async () => {
    const files: Record<string, string> = {
      ...Object.fromEntries(Object.entries(agents).map(([id, yaml]) => [`clients/${id}.yaml`, yaml])),
      'clients/billing-api.yaml': billingYaml,
      'resources/demo-api.yaml': `${demoApiResource.trimEnd()}\npins:\n  schema: "${pins.schema}"\n  plan: "${pins.plan}"\n`,
    };
    const env = {
      ...Object.fromEntries(Object.keys(agents).map((id) => [envName(id), hashSecret(agentSecret(id))])),
      [envName('billing-api')]: hashSecret(billingSecret),
    };
    server = await startConsulate({ files, env });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    for (const id of Object.keys(agents)) configs.set(id, await discover(server, id, client.ClientSecretBasic(agentSecret(id))));
  });
  afterAll(async () => server?.stop());

  const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const verify = async (token: string) => (await jwtVerify(token, jwks(), { issuer: server.issuer, audience: api, typ: 'at+jwt' })).payload;
  const exchange = (agent: string, subjectToken: string) =>
    client.genericGrantRequest(configs.get(agent)!, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, scope: 'read-data' });
  /** A new delegation: Ada's Passport from the web app, exchanged by the shopper. */
  const delegated = async () => (await exchange('shopper', (await personTokens(server, ada)).access_token)).access_token;
  const usage = (form: Record<string, string | string[]> | string, headers: Record<string, string> = demoApi) => postForm(server, '/delegations/usage', form, headers);
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, demoApi)).body;
  const delegationOf = async (token: string) => (await server.deps.store.delegations.find((await verify(token)).did as string))!;
  const auditOf = async (did: string, event: string) => (await server.deps.store.audit.list({ limit: 10_000 })).filter((r) => r.event === event && r.details.did === did);
  const noStack = (text: string) => expect(text).not.toMatch(/at .*\.ts|stack|Error:/i);

  it('puts the budget into the Passport, counts reported usage and shows it falling in introspection', async () => {
    const token = await delegated();
    const claims = await verify(token);
    expect(claims.did).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.budget).toEqual({ uses: 5, amount: '100', currency: 'USD' });
    expect(await introspect(token)).toMatchObject({ active: true, delegation_active: true, budget_remaining: { uses: 5, uses_remaining: 5, amount: '100', amount_remaining: '100', currency: 'USD' } });

    const first = await usage({ token });
    expect(first.status, first.text).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body).toEqual({ active: true, budget_remaining: { uses: 5, uses_remaining: 4, amount: '100', amount_remaining: '100', currency: 'USD' } });

    const second = await usage({ token, uses: '2', amount: '12.345', currency: 'USD' });
    expect(second.status, second.text).toBe(200);
    expect(second.body).toEqual({ active: true, budget_remaining: { uses: 5, uses_remaining: 2, amount: '100', amount_remaining: '87.655', currency: 'USD' } });
    expect(await introspect(token)).toMatchObject({ active: true, budget_remaining: { uses_remaining: 2, amount_remaining: '87.655' } });
    expect((await delegationOf(token)).used).toEqual({ uses: 3, amountMicros: 12_345_000 });

    // Every consumption is an audit record naming the delegation and what was used.
    const consumed = await auditOf(claims.did as string, 'budget.consumed');
    expect(consumed.map((r) => r.details)).toEqual([
      expect.objectContaining({ did: claims.did, uses: 1, reporter: 'demo-api', aud: api }),
      expect.objectContaining({ did: claims.did, uses: 2, amount: '12.345', currency: 'USD', reporter: 'demo-api' }),
    ]);
    expect(consumed[0]).toMatchObject({ clientId: 'shopper', subject: ada.sub, tokenJti: claims.jti });
  });

  it('20 parallel reports of 1 use against 5 uses: exactly 5 counted, 15 refused, never negative', async () => {
    const token = await delegated();
    const answers = await Promise.all(Array.from({ length: 20 }, () => usage({ token })));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(ok).toHaveLength(5);
    for (const a of ok) expect(a.body.active).toBe(true);
    expect(refused).toHaveLength(15);
    for (const a of refused) {
      expect(a.status, a.text).toBe(403);
      expect(a.body).toMatchObject({ error: 'budget_exceeded' });
      noStack(a.text);
    }
    // The answers count down 4..0, each remaining value seen once.
    expect(ok.map((a) => (a.body.budget_remaining as Record<string, unknown>).uses_remaining).sort()).toEqual([0, 1, 2, 3, 4]);
    const record = await delegationOf(token);
    expect(record.used.uses).toBe(5);
    expect(await introspect(token)).toEqual({ active: false });
    const { did } = await verify(token);
    expect(await auditOf(did as string, 'budget.consumed')).toHaveLength(5);
    expect((await auditOf(did as string, 'budget.refused')).map((r) => r.details.reason)).toEqual(Array(15).fill('budget_exceeded'));
  });

  it('12 parallel reports of 10.00 USD against 100 USD: exactly 10 counted, remaining 0', async () => {
    const token = await delegated();
    const answers = await Promise.all(Array.from({ length: 12 }, () => usage({ token, uses: '0', amount: '10.00', currency: 'USD' })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 403 && a.body.error === 'budget_exceeded')).toHaveLength(2);
    const record = await delegationOf(token);
    expect(record.used).toEqual({ uses: 0, amountMicros: 100_000_000 });
    expect(await introspect(token)).toEqual({ active: false });
    // Spent: not even a zero-amount use of the uses left is taken.
    const more = await usage({ token, uses: '1' });
    expect(more.status).toBe(403);
    expect((await delegationOf(token)).used).toEqual({ uses: 0, amountMicros: 100_000_000 });
  });

  it('refuses a report that would go past the budget without counting any of it', async () => {
    const token = await delegated();
    expect((await usage({ token, uses: '3', amount: '60', currency: 'USD' })).status).toBe(200);
    // Uses would fit (3+2=5), the amount would not (60+40.000001 > 100): nothing of it is counted.
    const over = await usage({ token, uses: '2', amount: '40.000001', currency: 'USD' });
    expect(over.status).toBe(403);
    expect(over.body).toEqual({ error: 'budget_exceeded', error_description: expect.any(String) });
    expect((await delegationOf(token)).used).toEqual({ uses: 3, amountMicros: 60_000_000 });
    // Exactly what is left fits.
    const rest = await usage({ token, uses: '2', amount: '40', currency: 'USD' });
    expect(rest.body).toEqual({ active: true, budget_remaining: { uses: 5, uses_remaining: 0, amount: '100', amount_remaining: '0', currency: 'USD' } });
  });

  it('once spent: introspection is inactive for every hop and the delegation\'s Passports can no longer be exchanged', async () => {
    const token = await delegated();
    // Hop 2 works while the budget lasts, joins the delegation and carries its budget.
    const hop2 = (await exchange('courier', token)).access_token;
    const hop2Claims = await verify(hop2);
    expect(hop2Claims).toMatchObject({ did: (await verify(token)).did, act: { sub: 'courier', act: { sub: 'shopper' } }, budget: { uses: 5, amount: '100', currency: 'USD' } });
    // Usage reported with either hop's Passport spends the one delegation.
    expect((await usage({ token: hop2, uses: '4' })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, budget_remaining: { uses_remaining: 1 } });
    expect((await usage({ token, uses: '1' })).status).toBe(200);

    expect(await introspect(token)).toEqual({ active: false });
    expect(await introspect(hop2)).toEqual({ active: false });
    const refused = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, agentAuth('courier'));
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });
    noStack(refused.text);
    expect((await usage({ token: hop2 })).status).toBe(403);
  });

  it('a revoked delegation takes no usage: the answer is inactive and nothing is counted', async () => {
    const token = await delegated();
    const { did } = await verify(token);
    expect((await usage({ token })).status).toBe(200);
    expect(await server.deps.store.delegations.revoke(did as string, 'operator', server.deps.now())).toBe(true);
    const answer = await usage({ token });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ active: false });
    expect((await delegationOf(token)).used.uses).toBe(1);
    // Revoking the delegation revoked its Passports: the token itself is refused first.
    expect((await auditOf(did as string, 'budget.refused')).map((r) => r.details.reason)).toEqual(['token_revoked']);
  });

  it('a usage_id is counted once, also when retried in parallel; a refused one is not used up; ids are each reporter\'s own', async () => {
    const token = await delegated();
    const first = await usage({ token, usage_id: 'call-1' });
    const again = await usage({ token, usage_id: 'call-1' });
    expect(first.body).toMatchObject({ active: true, budget_remaining: { uses_remaining: 4 } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ active: true, budget_remaining: { uses_remaining: 4 } });

    const parallel = await Promise.all(Array.from({ length: 10 }, () => usage({ token, usage_id: 'call-2' })));
    for (const a of parallel) expect(a.status, a.text).toBe(200);
    expect((await delegationOf(token)).used.uses).toBe(2);

    // Refused (too much): the id is not used up, the corrected retry counts.
    expect((await usage({ token, usage_id: 'call-3', amount: '100.01', currency: 'USD' })).status).toBe(403);
    expect((await usage({ token, usage_id: 'call-3', amount: '1', currency: 'USD' })).status).toBe(200);
    expect((await delegationOf(token)).used).toEqual({ uses: 3, amountMicros: 1_000_000 });

    // Another resource server of the same audience has its own ids.
    const billing = await usage({ token, usage_id: 'call-1' }, billingApi);
    expect(billing.body).toMatchObject({ active: true, budget_remaining: { uses_remaining: 1 } });
    const consumed = await auditOf((await verify(token)).did as string, 'budget.consumed');
    expect(consumed.map((r) => [r.details.reporter, r.details.usage_id])).toEqual([
      ['demo-api', 'call-1'],
      ['demo-api', 'call-2'],
      ['demo-api', 'call-3'],
      ['billing-api', 'call-1'],
    ]);
  });

  it('refuses a currency other than the budget\'s', async () => {
    const token = await delegated();
    const answer = await usage({ token, amount: '5', currency: 'EUR' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: 'currency does not match the budget' });
    expect((await delegationOf(token)).used).toEqual({ uses: 0, amountMicros: 0 });
    expect((await auditOf((await verify(token)).did as string, 'budget.refused')).map((r) => r.details.reason)).toEqual(['currency_mismatch']);
  });

  it('answers callers that may not introspect the audience, and the agent itself, as for an unknown token', async () => {
    const token = await delegated();
    const unknown = await usage({ token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ active: false });
    // reports-api introspects only the reports resource (and authenticates with client_secret_post).
    const reportsApi = await usage({ token, client_id: 'reports-api', client_secret: secrets['reports-api'] }, {});
    expect(reportsApi.status, reportsApi.text).toBe(200);
    expect(reportsApi.body).toEqual(unknown.body);
    for (const headers of [agentAuth('shopper'), agentAuth('courier')]) {
      const answer = await usage({ token }, headers);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual(unknown.body);
    }
    expect((await delegationOf(token)).used.uses).toBe(0);
    expect((await auditOf((await verify(token)).did as string, 'budget.refused')).map((r) => r.details.reason)).toEqual(['caller_not_allowed', 'caller_not_allowed', 'caller_not_allowed']);
  });

  it('requires client authentication', async () => {
    const token = await delegated();
    const unauthenticated: Record<string, string>[] = [{}, { authorization: basicAuth('demo-api', 'wrong-secret') }, { authorization: 'Basic !!!' }];
    for (const headers of unauthenticated) {
      const answer = await usage({ token }, headers);
      expect(answer.status, answer.text).toBe(401);
      expect(answer.body).toMatchObject({ error: 'invalid_client' });
    }
    expect((await delegationOf(token)).used.uses).toBe(0);
  });

  it('refuses malformed reports with invalid_request and never a 500', async () => {
    const token = await delegated();
    const bad: Record<string, string | string[]>[] = [
      {},
      { token, uses: '-1' },
      { token, uses: '1.5' },
      { token, uses: '1e3' },
      { token, uses: 'abc' },
      { token, uses: '9999999999' },
      { token, uses: ['1', '2'] },
      { token, uses: '0' },
      { token, uses: '0', amount: '0', currency: 'USD' },
      { token, amount: '1,00', currency: 'USD' },
      { token, amount: '-5', currency: 'USD' },
      { token, amount: '1.1234567', currency: 'USD' },
      { token, amount: '.5', currency: 'USD' },
      { token, amount: '1e2', currency: 'USD' },
      { token, amount: 'NaN', currency: 'USD' },
      { token, amount: '10000000000', currency: 'USD' },
      { token, amount: '5' },
      { token, currency: 'USD' },
      { token, amount: '5', currency: 'usd' },
      { token, amount: '5', currency: 'DOLLAR' },
      { token, usage_id: 'x'.repeat(129) },
      { token, usage_id: 'with space' },
    ];
    for (const form of bad) {
      const answer = await usage(form);
      expect(answer.status, `${JSON.stringify(form).slice(0, 80)} → ${answer.text}`).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request' });
      noStack(answer.text);
    }
    // Not a form, not UTF-8, not POST.
    const json = await fetch(new URL('/delegations/usage', server.url), { method: 'POST', headers: { 'content-type': 'application/json', ...demoApi }, body: JSON.stringify({ token }) });
    expect(json.status).toBe(400);
    const notUtf8 = await fetch(new URL('/delegations/usage', server.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...demoApi }, body: new Uint8Array([0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x3d, 0xff]) });
    expect(notUtf8.status).toBe(400);
    const get = await fetch(new URL('/delegations/usage', server.url));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await delegationOf(token)).used).toEqual({ uses: 0, amountMicros: 0 });
    expect(server.logs.filter((line) => line.msg === 'unhandled error')).toEqual([]);
  });

  it('refuses a Passport without a delegation (the agent acting for itself)', async () => {
    const own = await client.clientCredentialsGrant(configs.get('shopper')!, { resource: api, scope: 'read-data' });
    expect((await verify(own.access_token)).did).toBeUndefined();
    const answer = await usage({ token: own.access_token });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: 'the token carries no delegation' });
  });

  it('copies the resource\'s pins unchanged into client-credentials, person and exchanged Passports', async () => {
    const own = await client.clientCredentialsGrant(configs.get('shopper')!, { resource: api, scope: 'read-data' });
    const person = (await personTokens(server, ada)).access_token;
    const hop1 = (await exchange('shopper', person)).access_token;
    const hop2 = (await exchange('courier', hop1)).access_token;
    for (const token of [own.access_token, person, hop1, hop2]) expect((await verify(token)).pins).toEqual(pins);
  });
});
