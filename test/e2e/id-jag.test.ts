// ID-JAG end to end with two real Consulates: A issues an Identity Assertion JWT Authorization
// Grant (token exchange, requested_token_type id-jag) to a person's agent; B trusts A
// (config/issuers/a.yaml, A's /jwks) and turns it into its own Passport (jwt-bearer). Both steps
// driven by openid-client's genericGrantRequest; tokens verified with jose against each /jwks.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { signJwt } from '../../src/passports/sign.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, reports, type Person } from './support/delegation.ts';

const idJagType = 'urn:ietf:params:oauth:token-type:id-jag';
const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** An agent registered at B: presents assertions of the issuers it names. */
const bAgentYaml = (id: string, policy: string) =>
  [
    `client_id: ${id}`,
    'kind: agent',
    'owner: owner@example.test',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: \${env:${envName(id)}}`,
    `grant_types: [${jwtBearer}]`,
    'resources:',
    `  ${api}:`,
    '    scopes: [read-data, write-data]',
    `  ${reports}:`,
    '    scopes: [reports.read]',
    `default_resource: ${api}`,
    'delegation:',
    ...policy.split('\n').map((line) => `  ${line}`),
    '',
  ].join('\n');

/** What an agent at A may ask of the authorization servers named (B, by its issuer). */
const audienceAt = (issuers: string[], clientId: string) =>
  ['id_jag_audiences:', ...issuers.map((issuer) => `  ${issuer}:\n    client_id: ${clientId}\n    scopes: [read-data, write-data, admin-action]\n    resources: [${api}]`)].join('\n');

/** Free loopback ports, all held open at once so that they differ, then released. */
async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))));
  const ports = probes.map((probe) => (probe.address() as AddressInfo).port);
  await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  return ports;
}

describe('ID-JAG: issued at A, redeemed at B', () => {
  let a: TestConsulate;
  let b: TestConsulate;
  let ada: Person;
  let bob: Person;
  let offset = 0;
  const nowA = () => Math.floor(Date.now() / 1000) + offset;
  const configsA = new Map<string, client.Configuration>();
  const configsB = new Map<string, client.Configuration>();

  beforeAll(async () => {
    const [aPort, bPort] = (await freePorts(2)) as [number, number];
    const aIssuer = `http://127.0.0.1:${aPort}`;
    const bIssuer = `http://127.0.0.1:${bPort}`;
    const agentsA: Record<string, string> = {
      // Acts for eng and sales; its ID-JAGs carry email and groups for B's policy. Its config
      // also names A itself, which A never issues ID-JAGs for.
      assistant: agentYaml('assistant', `act_for: { groups: [eng, sales] }\nsubject_token_clients: [web-app]\nmax_chain: 2\n${audienceAt([bIssuer, aIssuer], 'assistant-b')}`, undefined, 'claims: [email, groups]'),
      // Takes the assistant's delegated Passports: its ID-JAGs nest the chain.
      worker: agentYaml('worker', `act_for: { anyone: true }\nsubject_token_clients: [assistant]\nmax_chain: 2\n${audienceAt([bIssuer], 'worker-b')}`),
      picky: agentYaml('picky', `act_for: { people: [grace@example.test] }\nsubject_token_clients: [web-app]\n${audienceAt([bIssuer], 'picky-b')}`),
      // May exchange, but no ID-JAG audience at all.
      plain: agentYaml('plain', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]'),
      sleepy: agentYaml('sleepy', `act_for: { anyone: true }\nsubject_token_clients: [web-app]\n${audienceAt([bIssuer], 'sleepy-b')}`, undefined, 'state: suspended'),
    };
    a = await startConsulate({
      port: aPort,
      now: nowA,
      files: Object.fromEntries(Object.entries(agentsA).map(([id, yaml]) => [`clients/${id}.yaml`, yaml])),
      env: Object.fromEntries(Object.keys(agentsA).map((id) => [envName(id), hashSecret(agentSecret(id))])),
    });
    const agentsB: Record<string, string> = {
      'assistant-b': bAgentYaml('assistant-b', 'jwt_bearer_issuers: [a, self]\nact_for: { groups: [eng] }'),
      'worker-b': bAgentYaml('worker-b', 'jwt_bearer_issuers: [a]\nact_for: { anyone: true }'),
      // Trusts no issuer.
      'outsider-b': bAgentYaml('outsider-b', 'act_for: { anyone: true }'),
    };
    b = await startConsulate({
      port: bPort,
      files: {
        'issuers/a.yaml': `id: a\nissuer: ${a.issuer}\njwks_uri: ${a.issuer}/jwks\naccepts: [id-jag]\nmax_lifetime_seconds: 300\n`,
        // A misconfiguration: B named as an issuer it trusts.
        'issuers/self.yaml': `id: self\nissuer: ${bIssuer}\njwks_uri: ${bIssuer}/jwks\naccepts: [id-jag]\n`,
        ...Object.fromEntries(Object.entries(agentsB).map(([id, yaml]) => [`clients/${id}.yaml`, yaml])),
      },
      env: Object.fromEntries(Object.keys(agentsB).map((id) => [envName(id), hashSecret(agentSecret(id))])),
    });
    expect([a.issuer, b.issuer]).toEqual([aIssuer, bIssuer]);
    ada = await addPerson(a, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    bob = await addPerson(a, 'bob', { email: 'bob@example.test', email_verified: true, groups: ['sales'] });
    for (const id of Object.keys(agentsA)) if (id !== 'sleepy') configsA.set(id, await discover(a, id, client.ClientSecretBasic(agentSecret(id))));
    for (const id of Object.keys(agentsB)) configsB.set(id, await discover(b, id, client.ClientSecretBasic(agentSecret(id))));
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const jwks = (server: TestConsulate) => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const verifyIdJag = async (token: string) => jwtVerify(token, jwks(a), { issuer: a.issuer, audience: b.issuer, typ: 'oauth-id-jag+jwt' });
  const verifyAtB = async (token: string, audience = api) => (await jwtVerify(token, jwks(b), { issuer: b.issuer, audience, typ: 'at+jwt' })).payload;
  const askIdJag = (agent: string, subjectToken: string, extra: Record<string, string> = {}) =>
    client.genericGrantRequest(configsA.get(agent)!, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, requested_token_type: idJagType, audience: b.issuer, ...extra });
  const redeem = (agent: string, assertion: string, extra: Record<string, string> = {}) => client.genericGrantRequest(configsB.get(agent)!, jwtBearer, { assertion, ...extra });
  const delegations = async (server: TestConsulate) => (await server.deps.store.delegations.list({}, server.deps.now())).length;
  const audit = async (server: TestConsulate) => server.deps.store.audit.list({ limit: 10000 });
  const lastDenialReason = async (server: TestConsulate) => (await audit(server)).filter((r) => r.event === 'passport.denied').at(-1)?.details.reason;

  async function refusedAt(server: TestConsulate, agent: string, form: Record<string, string>, expected: { error: string; reason: string }) {
    const before = await delegations(server);
    const issuedBefore = (await audit(server)).filter((r) => r.event === 'id_jag.issued' || r.event === 'passport.issued').length;
    const response = await postForm(server, '/token', form, agentAuth(agent));
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toBe(expected.error);
    expect(await lastDenialReason(server)).toBe(expected.reason);
    // A refused request leaves no delegation and no issuance behind.
    expect(await delegations(server)).toBe(before);
    expect((await audit(server)).filter((r) => r.event === 'id_jag.issued' || r.event === 'passport.issued').length).toBe(issuedBefore);
    return response.body;
  }
  const idJagForm = (subjectToken: string, extra: Record<string, string> = {}) => ({
    grant_type: exchangeGrant,
    subject_token: subjectToken,
    subject_token_type: accessTokenType,
    requested_token_type: idJagType,
    audience: b.issuer,
    ...extra,
  });

  it('A issues an ID-JAG for the person: typed, signed with A\'s key, naming B, B\'s client_id, the resource and scope', async () => {
    const person = await personTokens(a, ada);
    const subject = decodeJwt(person.access_token);
    const before = await delegations(a);
    const result = await askIdJag('assistant', person.access_token, { resource: api, scope: 'read-data' });
    expect(result.issued_token_type).toBe(idJagType);
    expect(result.token_type).toBe('n_a');
    expect(result.scope).toBe('read-data');
    expect(result.expires_in).toBeGreaterThan(280);
    expect(result.expires_in).toBeLessThanOrEqual(300);

    const { payload, protectedHeader } = await verifyIdJag(result.access_token);
    expect(protectedHeader).toMatchObject({ typ: 'oauth-id-jag+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({
      iss: a.issuer,
      sub: ada.sub,
      aud: b.issuer,
      client_id: 'assistant-b',
      resource: api,
      scope: 'read-data',
      auth_time: subject.auth_time,
      acr: 'urn:consulate:acr:mfa',
      amr: ['pwd', 'otp'],
      act: { sub: 'assistant' },
      email: 'ada@example.test',
      groups: ['eng'],
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp! - payload.iat!).toBe(result.expires_in);
    expect(payload.exp!).toBeLessThanOrEqual(subject.exp!);
    // Provenance of the person's home login stays at A.
    expect(payload).not.toHaveProperty('orig_iss');
    expect(payload).not.toHaveProperty('orig_sub');

    // A keeps a receipt, and no delegation: the ID-JAG is no Passport of A's.
    const receipt = (await audit(a)).find((r) => r.tokenJti === payload.jti);
    expect(receipt).toMatchObject({ event: 'id_jag.issued', clientId: 'assistant', subject: ada.sub });
    expect(receipt?.details).toMatchObject({ aud: b.issuer, client_id_at_aud: 'assistant-b', resource: api, scope: 'read-data', subject_origin: 'passport', subject_jti: subject.jti });
    expect(await delegations(a)).toBe(before);
  });

  it('B turns it into its own Passport: sub the person at B, act and azp the agent, a new delegation; once only', async () => {
    const person = await personTokens(a, ada);
    const idJag = (await askIdJag('assistant', person.access_token, { resource: api, scope: 'read-data' })).access_token;
    const before = await delegations(b);
    const tokens = await redeem('assistant-b', idJag);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read-data');
    expect(tokens.expires_in).toBe(300);

    const claims = await verifyAtB(tokens.access_token);
    expect(claims).toMatchObject({ iss: b.issuer, aud: api, act: { sub: 'assistant-b' }, azp: 'assistant-b', client_id: 'assistant-b', scope: 'read-data', orig_iss: a.issuer, orig_sub: ada.sub, auth_time: decodeJwt(person.access_token).auth_time });
    expect(claims.sub).not.toBe(ada.sub);
    expect(claims.did).toMatch(/^[0-9a-f-]{36}$/);
    // The person at B is A's account (iss, sub), linked as issuer:a.
    const accounts = await b.deps.store.subjects.accountsOf(claims.sub!);
    expect(accounts).toEqual([expect.objectContaining({ origIss: a.issuer, origSub: ada.sub, upstreamId: 'issuer:a' })]);
    const delegation = await b.deps.store.delegations.find(claims.did as string);
    expect(delegation).toMatchObject({ sub: claims.sub, clientId: 'assistant-b', origin: 'issuer:a', resource: api });
    expect(await delegations(b)).toBe(before + 1);
    const receipt = (await audit(b)).find((r) => r.id === claims.receipt);
    expect(receipt).toMatchObject({ event: 'passport.issued', clientId: 'assistant-b', subject: claims.sub });
    expect(receipt?.details).toMatchObject({ assertion_kind: 'id-jag', assertion_issuer: 'a', assertion_act: { sub: 'assistant' }, did: claims.did });

    // B's resource server sees it active.
    const seen = await postForm(b, '/introspect', { token: tokens.access_token }, { authorization: basicAuth('demo-api', secrets['demo-api']) });
    expect(seen.body).toMatchObject({ active: true, sub: claims.sub, act: { sub: 'assistant-b' }, did: claims.did });

    // The same ID-JAG again: refused, nothing new at B.
    await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: idJag }, { error: 'invalid_grant', reason: 'assertion_replayed' });

    // Another ID-JAG for Ada finds the same person at B.
    const again = await redeem('assistant-b', (await askIdJag('assistant', person.access_token, { resource: api })).access_token, { scope: 'write-data' });
    const second = await verifyAtB(again.access_token);
    expect(second.sub).toBe(claims.sub);
    expect(second.scope).toBe('write-data');
    expect(second.did).not.toBe(claims.did);
  });

  it('B only narrows what the ID-JAG names, and applies its own policy on top', async () => {
    const person = await personTokens(a, ada);
    const idJag = async (extra: Record<string, string>) => (await askIdJag('assistant', person.access_token, extra)).access_token;
    // Scope beyond the ID-JAG's, a resource it does not name.
    const readOnly = await idJag({ resource: api, scope: 'read-data' });
    expect(await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: readOnly, scope: 'read-data write-data' }, { error: 'invalid_scope', reason: 'scope_widened' })).toMatchObject({ error_description: expect.stringContaining('write-data') });
    await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: await idJag({ resource: api, scope: 'read-data' }), resource: reports }, { error: 'invalid_target', reason: 'audience_widened' });
    // Within the ID-JAG but beyond what B lets this agent have.
    await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: await idJag({ resource: api, scope: 'read-data admin-action' }), scope: 'read-data admin-action' }, { error: 'invalid_scope', reason: 'scope_not_allowed' });
    // Without a scope of its own the request gets the ID-JAG's scopes.
    const narrowest = await redeem('assistant-b', await idJag({ resource: api, scope: 'write-data' }));
    expect((await verifyAtB(narrowest.access_token)).scope).toBe('write-data');
  });

  it('B refuses a person its agent may not act for, an agent the ID-JAG was not issued to, and an agent that does not trust A', async () => {
    const bobs = await personTokens(a, bob);
    // A's assistant acts for sales; B's assistant-b only for eng.
    const forBob = (await askIdJag('assistant', bobs.access_token, { resource: api, scope: 'read-data' })).access_token;
    expect(decodeJwt(forBob).groups).toEqual(['sales']);
    await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: forBob }, { error: 'invalid_grant', reason: 'subject_not_allowed' });

    const adas = await personTokens(a, ada);
    const forAssistant = (await askIdJag('assistant', adas.access_token, { resource: api })).access_token;
    await refusedAt(b, 'worker-b', { grant_type: jwtBearer, assertion: forAssistant }, { error: 'invalid_grant', reason: 'assertion_client_id_mismatch' });
    await refusedAt(b, 'outsider-b', { grant_type: jwtBearer, assertion: forAssistant }, { error: 'invalid_grant', reason: 'assertion_issuer_not_allowed' });
    // Neither spent it: the agent it was issued to still can.
    expect((await redeem('assistant-b', forAssistant)).access_token).toBeTruthy();

    // B named as an issuer B trusts (a misconfiguration): an ID-JAG signed with B's own key is still refused.
    const t = Math.floor(Date.now() / 1000);
    const own = signJwt(await b.deps.keyring.signingKey('ES256', t), 'oauth-id-jag+jwt', { iss: b.issuer, sub: 'someone', aud: b.issuer, client_id: 'assistant-b', jti: randomUUID(), iat: t, exp: t + 60, groups: ['eng'] });
    await refusedAt(b, 'assistant-b', { grant_type: jwtBearer, assertion: own }, { error: 'invalid_grant', reason: 'assertion_own_issuer' });
  });

  it('A refuses audiences, scopes and resources beyond the agent\'s id_jag_audiences, and people it may not act for', async () => {
    const person = await personTokens(a, ada);
    const token = person.access_token;
    await refusedAt(a, 'assistant', idJagForm(token, { audience: 'https://as.elsewhere.example' }), { error: 'invalid_target', reason: 'id_jag_audience_not_allowed' });
    // A itself, though the agent's config names it.
    await refusedAt(a, 'assistant', idJagForm(token, { audience: a.issuer }), { error: 'invalid_target', reason: 'id_jag_audience_not_allowed' });
    await refusedAt(a, 'plain', idJagForm(token), { error: 'invalid_target', reason: 'id_jag_audience_not_allowed' });
    const { audience: _dropped, ...withoutAudience } = idJagForm(token);
    await refusedAt(a, 'assistant', withoutAudience, { error: 'invalid_request', reason: 'audience (the issuer of the authorization server) is required for an ID-JAG' });
    await refusedAt(a, 'assistant', idJagForm(token, { scope: 'read-data reports.read' }), { error: 'invalid_scope', reason: 'id_jag_scope_not_allowed' });
    await refusedAt(a, 'assistant', idJagForm(token, { resource: reports }), { error: 'invalid_target', reason: 'id_jag_resource_not_allowed' });
    // picky acts only for grace.
    await refusedAt(a, 'picky', idJagForm(token), { error: 'invalid_grant', reason: 'subject_not_allowed' });
    // A suspended agent gets nothing.
    expect((await postForm(a, '/token', idJagForm(token), agentAuth('sleepy'))).body).toMatchObject({ error: 'unauthorized_client' });
  });

  it('A issues ID-JAGs only for people: never for a client\'s own token', async () => {
    const own = await client.clientCredentialsGrant(configsA.get('assistant')!, { resource: api });
    await refusedAt(a, 'assistant', idJagForm(own.access_token), { error: 'invalid_grant', reason: 'id_jag_subject_not_person' });
  });

  it('nests the chain of a delegated subject token under the agent, and never outlives the subject token', async () => {
    const person = await personTokens(a, ada);
    const delegated = await client.genericGrantRequest(configsA.get('assistant')!, exchangeGrant, { subject_token: person.access_token, subject_token_type: accessTokenType, resource: api });
    const nested = await askIdJag('worker', delegated.access_token);
    const { payload } = await verifyIdJag(nested.access_token);
    expect(payload).toMatchObject({ sub: ada.sub, client_id: 'worker-b', act: { sub: 'worker', act: { sub: 'assistant' } } });
    // Nothing asked: every scope configured for B; no resource named.
    expect(payload.scope).toBe('read-data write-data admin-action');
    expect(payload).not.toHaveProperty('resource');
    // B's worker-b takes it; its Passport's chain is B's own.
    const atB = await verifyAtB((await redeem('worker-b', nested.access_token, { scope: 'read-data' })).access_token);
    expect(atB.act).toEqual({ sub: 'worker-b' });

    const subject = decodeJwt(person.access_token);
    offset += 260; // 40 s left of the person's Passport
    try {
      const late = await askIdJag('assistant', person.access_token, { resource: api });
      expect(decodeJwt(late.access_token).exp).toBe(subject.exp);
      expect(late.expires_in).toBeLessThanOrEqual(40);
    } finally {
      offset -= 260;
    }
  });
});
