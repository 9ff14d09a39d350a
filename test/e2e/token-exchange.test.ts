// Token exchange (RFC 8693) against a real server: a person's Passport from the web app exchanged by
// agents with openid-client's genericGrantRequest, the results verified with jose against /jwks and
// introspected by the resource server. Chains of three hops, the limits of every hop, the attacks.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import {
  accessTokenType,
  addPerson,
  agentAuth,
  agentSecret,
  agentYaml,
  api,
  envName,
  exchangeGrant,
  idTokenType,
  personTokens,
  reports,
  type Person,
} from './support/delegation.ts';

const agents = {
  // Acts for the eng group, with the web app's tokens; Passports of at most 120 s; chains up to 3.
  assistant: agentYaml('assistant', 'act_for: { groups: [eng] }\nsubject_token_clients: [web-app]\nmax_chain: 3\nmax_ttl_seconds: 120', `  ${api}:\n    scopes: [read-data, write-data]\n    authorization_details_types: [tool]\n    actions: { tool: [read] }\n  ${reports}:\n    scopes: [reports.read]`),
  worker: agentYaml('worker', 'act_for: { anyone: true }\nsubject_token_clients: [assistant]\nmax_chain: 3'),
  'deep-worker': agentYaml('deep-worker', 'act_for: { anyone: true }\nsubject_token_clients: [worker]\nmax_chain: 3'),
  'last-worker': agentYaml('last-worker', 'act_for: { anyone: true }\nsubject_token_clients: [deep-worker]\nmax_chain: 5'),
  'short-worker': agentYaml('short-worker', 'act_for: { anyone: true }\nsubject_token_clients: [worker]\nmax_chain: 2'),
  // May not take the web app's tokens.
  stranger: agentYaml('stranger', 'act_for: { anyone: true }'),
  // Acts for the assistant itself (service to service) with the assistant's own Passports.
  svc: agentYaml('svc', 'act_for: { clients: [assistant] }\nsubject_token_clients: [assistant]\nmax_chain: 2'),
  // Only for one named person.
  picky: agentYaml('picky', 'act_for: { people: [grace@example.test] }\nsubject_token_clients: [web-app]'),
};

describe('token exchange (RFC 8693)', () => {
  let server: TestConsulate;
  let ada: Person;
  let bob: Person;
  let offset = 0;
  const now = () => Math.floor(Date.now() / 1000) + offset;
  const configs = new Map<string, client.Configuration>();
  const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };

  beforeAll(async () => {
    const files = Object.fromEntries(Object.entries(agents).map(([id, yaml]) => [`clients/${id}.yaml`, yaml]));
    const env = Object.fromEntries(Object.keys(agents).map((id) => [envName(id), hashSecret(agentSecret(id))]));
    server = await startConsulate({ now, files, env });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    bob = await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: true, groups: ['sales'] });
    for (const id of Object.keys(agents)) configs.set(id, await discover(server, id, client.ClientSecretBasic(agentSecret(id))));
  });
  afterAll(async () => server?.stop());

  const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const verify = async (token: string, audience = api) => (await jwtVerify(token, jwks(), { issuer: server.issuer, audience, typ: 'at+jwt' })).payload;
  const exchange = (agent: string, subjectToken: string, extra: Record<string, string> = {}) =>
    client.genericGrantRequest(configs.get(agent)!, exchangeGrant, { subject_token: subjectToken, subject_token_type: accessTokenType, ...extra });
  const raw = (agent: string, form: Record<string, string>) => postForm(server, '/token', { grant_type: exchangeGrant, ...form }, agentAuth(agent));
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, demoApi)).body;
  const delegationCount = async () => (await server.deps.store.delegations.list({}, now())).length;

  async function refused(agent: string, form: Record<string, string>): Promise<Record<string, unknown>> {
    const before = await delegationCount();
    const response = await raw(agent, { subject_token_type: accessTokenType, ...form });
    expect(response.status, response.text).toBe(400);
    expect(response.text).not.toMatch(/at .*\.ts|stack/i);
    // A refused exchange leaves nothing behind.
    expect(await delegationCount()).toBe(before);
    return response.body;
  }

  it('exchanges a person\'s Passport: sub is the person, act the agent, azp the agent, with a delegation id and provenance', async () => {
    const person = await personTokens(server, ada);
    const subject = await verify(person.access_token);
    const result = await exchange('assistant', person.access_token, { resource: api, scope: 'read-data' });
    expect(result.issued_token_type).toBe(accessTokenType);
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('read-data');

    const claims = await verify(result.access_token);
    expect(claims.sub).toBe(ada.sub);
    expect(claims.act).toEqual({ sub: 'assistant' });
    expect(claims.azp).toBe('assistant');
    expect(claims.client_id).toBe('assistant');
    expect(claims.did).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.orig_iss).toBe('https://upstream.example.test');
    expect(claims.orig_sub).toBe('u-ada');
    // The person's authentication travels; the lifetime is the agent's cap, within the subject's.
    expect(claims.auth_time).toBe(subject.auth_time);
    expect(claims.acr).toBe('urn:consulate:acr:mfa');
    expect(result.expires_in).toBe(120);
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(claims.exp!).toBeLessThanOrEqual(subject.exp!);

    const seen = await introspect(result.access_token);
    expect(seen).toMatchObject({ active: true, sub: ada.sub, act: { sub: 'assistant' }, azp: 'assistant', did: claims.did, delegation_active: true, scope: 'read-data' });

    // The receipt names the delegation, the chain and where the subject token came from.
    const records = await server.deps.store.audit.list({ limit: 1000 });
    const receipt = records.find((r) => r.id === claims.receipt);
    expect(receipt).toMatchObject({ event: 'passport.exchanged', clientId: 'assistant', subject: ada.sub, tokenJti: claims.jti });
    expect(receipt?.details).toMatchObject({ did: claims.did, new_delegation: true, subject_origin: 'passport', subject_jti: subject.jti });
  });

  it('also takes the person\'s ID token (as id_token), but never an ID token as an access token or a Passport as an ID token', async () => {
    const person = await personTokens(server, ada);
    const result = await exchange('assistant', person.id_token, { subject_token_type: idTokenType, resource: api, scope: 'read-data' });
    const claims = await verify(result.access_token);
    expect(claims).toMatchObject({ sub: ada.sub, act: { sub: 'assistant' }, scope: 'read-data' });

    expect(await refused('assistant', { subject_token: person.id_token, resource: api })).toMatchObject({ error: 'invalid_request', error_description: 'subject_token is invalid' });
    expect(await refused('assistant', { subject_token: person.access_token, subject_token_type: idTokenType, resource: api })).toMatchObject({ error: 'invalid_request' });
  });

  it('only narrows: wider scope, another audience, wider authorization details are refused, each with its own error', async () => {
    const person = await personTokens(server, ada, { authorizationDetails: [{ type: 'tool', tool: 'search', actions: ['read'] }] });
    // The person's Passport has read-data only; the agent's policy would allow write-data.
    expect(await refused('assistant', { subject_token: person.access_token, scope: 'read-data write-data' })).toMatchObject({ error: 'invalid_scope' });
    // The agent may use reports, but the subject token is for the demo API, which has no downstream.
    expect(await refused('assistant', { subject_token: person.access_token, resource: reports, scope: 'reports.read' })).toMatchObject({ error: 'invalid_target' });
    expect(await refused('assistant', { subject_token: person.access_token, audience: reports })).toMatchObject({ error: 'invalid_target' });
    const details = (value: unknown) => ({ subject_token: person.access_token, resource: api, authorization_details: JSON.stringify(value) });
    // Another tool, an action the subject lacks, and a missing actions list (all actions) are wider.
    expect(await refused('assistant', details([{ type: 'tool', tool: 'delete', actions: ['read'] }]))).toMatchObject({ error: 'invalid_authorization_details' });
    expect(await refused('assistant', details([{ type: 'tool', tool: 'search' }]))).toMatchObject({ error: 'invalid_authorization_details' });
    // Schema violations are refused before anything else.
    expect(await refused('assistant', details([{ type: 'tool', tool: 'search', actions: ['read'], extra: 1 }]))).toMatchObject({ error: 'invalid_authorization_details' });

    const narrowed = await exchange('assistant', person.access_token, details([{ type: 'tool', tool: 'search', actions: ['read'] }]));
    const claims = await verify(narrowed.access_token);
    expect(claims.authorization_details).toEqual([{ type: 'tool', tool: 'search', actions: ['read'] }]);
    expect(claims.scope).toBe('read-data');
  });

  it('the agent\'s policy bounds actions even where the subject token would allow them', async () => {
    const person = await personTokens(server, ada, { authorizationDetails: [{ type: 'tool', tool: 'search', actions: ['read', 'call'] }] });
    const body = await refused('assistant', { subject_token: person.access_token, authorization_details: JSON.stringify([{ type: 'tool', tool: 'search', actions: ['call'] }]) });
    expect(body).toMatchObject({ error: 'invalid_authorization_details' });
    expect(String(body.error_description)).toContain('read');
  });

  it('never outlives the subject token', async () => {
    const person = await personTokens(server, ada);
    const subject = decodeJwt(person.access_token);
    offset += 260; // 40 s left of the person's 300 s Passport
    try {
      const result = await exchange('assistant', person.access_token, { scope: 'read-data' });
      const claims = decodeJwt(result.access_token);
      expect(claims.exp).toBe(subject.exp);
      expect(result.expires_in).toBeLessThanOrEqual(40);
      offset += 41;
      expect(await refused('assistant', { subject_token: person.access_token })).toMatchObject({ error: 'invalid_request' });
    } finally {
      offset -= 301;
    }
  });

  it('refuses another client\'s tokens unless the policy names that client, and people the agent may not act for', async () => {
    const person = await personTokens(server, ada);
    expect(await refused('stranger', { subject_token: person.access_token })).toMatchObject({ error: 'invalid_grant', error_description: 'this client may not exchange tokens issued to another client' });
    // picky acts only for grace; assistant only for the eng group.
    expect(await refused('picky', { subject_token: person.access_token })).toMatchObject({ error: 'invalid_grant', error_description: 'this client may not act for the subject of the token' });
    const bobs = await personTokens(server, bob);
    expect(await refused('assistant', { subject_token: bobs.access_token })).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses forged, unsigned, self-made and malformed subject tokens', async () => {
    const person = await personTokens(server, ada);
    const real = decodeJwt(person.access_token);
    // A token claiming our issuer and a chain, signed by the agent's own key.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...real, act: { sub: 'assistant', act: { sub: 'admin-bot' } } } as JWTPayload)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: decodeProtectedHeader(person.access_token).kid! })
      .sign(privateKey);
    expect(await refused('assistant', { subject_token: forged })).toMatchObject({ error: 'invalid_request' });
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const unsigned = `${header({ alg: 'none', typ: 'at+jwt' })}.${person.access_token.split('.')[1]}.`;
    expect(await refused('assistant', { subject_token: unsigned })).toMatchObject({ error: 'invalid_request' });
    const tampered = person.access_token.replace(/\.([^.]+)\./, (_m, payload: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'read-data write-data' })).toString('base64url')}.`);
    expect(await refused('assistant', { subject_token: tampered })).toMatchObject({ error: 'invalid_request' });
    expect(await refused('assistant', { subject_token: 'not-a-token' })).toMatchObject({ error: 'invalid_request' });
    expect(await refused('assistant', { subject_token: `${'a'.repeat(5000)}.${'b'.repeat(5000)}.${'c'.repeat(5000)}` })).toMatchObject({ error: 'invalid_request' });
    // Larger than a request may be at all.
    const huge = await raw('assistant', { subject_token: 'x'.repeat(20000), subject_token_type: accessTokenType });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: 'request_too_large' });
  });

  it('answers malformed requests with the RFC\'s errors', async () => {
    const person = await personTokens(server, ada);
    expect((await raw('assistant', { subject_token_type: accessTokenType })).body).toMatchObject({ error: 'invalid_request', error_description: 'subject_token is required' });
    expect((await raw('assistant', { subject_token: person.access_token })).body).toMatchObject({ error: 'invalid_request', error_description: 'subject_token_type is required' });
    expect(await refused('assistant', { subject_token: person.access_token, subject_token_type: 'urn:example:saml' })).toMatchObject({ error: 'invalid_request' });
    expect(await refused('assistant', { subject_token: person.access_token, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' })).toMatchObject({ error: 'invalid_request' });
    expect(await refused('assistant', { subject_token: person.access_token, resource: api, audience: reports })).toMatchObject({ error: 'invalid_target' });
    expect(await refused('assistant', { subject_token: person.access_token, authorization_details: '{not json' })).toMatchObject({ error: 'invalid_authorization_details' });
    // A client not registered for the grant.
    const webApp = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: person.access_token, subject_token_type: accessTokenType }, { authorization: basicAuth('web-app', secrets['web-app']) });
    expect(webApp.body).toMatchObject({ error: 'unauthorized_client' });
    // Unauthenticated.
    expect((await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: person.access_token, subject_token_type: accessTokenType })).status).toBe(401);
  });

  it('accepts the agent\'s own Passport as actor_token, and no one else\'s', async () => {
    const person = await personTokens(server, ada);
    const own = await client.clientCredentialsGrant(configs.get('assistant')!, { resource: api, scope: 'read-data' });
    const result = await exchange('assistant', person.access_token, { actor_token: own.access_token, actor_token_type: accessTokenType });
    expect((await verify(result.access_token)).act).toEqual({ sub: 'assistant' });
    const others = await client.clientCredentialsGrant(configs.get('worker')!, { resource: api, scope: 'read-data' });
    expect(await refused('assistant', { subject_token: person.access_token, actor_token: others.access_token, actor_token_type: accessTokenType })).toMatchObject({ error: 'invalid_request' });
    expect(await refused('assistant', { subject_token: person.access_token, actor_token: person.access_token, actor_token_type: accessTokenType })).toMatchObject({ error: 'invalid_request' });
  });

  describe('chains', () => {
    it('three hops nest act (never replace it), keep the delegation id, and each hop is no wider; the chain limit refuses the next hop', async () => {
      const person = await personTokens(server, ada, { resourceScopes: ['read-data', 'write-data'] });
      const hop1 = await exchange('assistant', person.access_token, { scope: 'read-data write-data' });
      const hop2 = await exchange('worker', hop1.access_token, { scope: 'read-data' });
      const hop3 = await exchange('deep-worker', hop2.access_token);
      const [c1, c2, c3] = await Promise.all([verify(hop1.access_token), verify(hop2.access_token), verify(hop3.access_token)]);
      expect(c1.act).toEqual({ sub: 'assistant' });
      expect(c2.act).toEqual({ sub: 'worker', act: { sub: 'assistant' } });
      expect(c3.act).toEqual({ sub: 'deep-worker', act: { sub: 'worker', act: { sub: 'assistant' } } });
      expect(new Set([c1.sub, c2.sub, c3.sub])).toEqual(new Set([ada.sub]));
      expect(new Set([c1.did, c2.did, c3.did]).size).toBe(1);
      expect([c1.azp, c2.azp, c3.azp]).toEqual(['assistant', 'worker', 'deep-worker']);
      // Narrower at every hop: hop 2 dropped write-data, hop 3 (no scope asked) inherits only what hop 2 had.
      expect([c1.scope, c2.scope, c3.scope]).toEqual(['read-data write-data', 'read-data', 'read-data']);
      expect(c3.exp!).toBeLessThanOrEqual(c2.exp!);
      expect(c2.exp!).toBeLessThanOrEqual(c1.exp!);
      // Widening again at hop 3 is refused.
      expect(await refused('deep-worker', { subject_token: hop2.access_token, scope: 'read-data write-data' })).toMatchObject({ error: 'invalid_scope' });
      // A fourth actor: the assistant allows chains of 3 at most.
      const fourth = await refused('last-worker', { subject_token: hop3.access_token });
      expect(fourth).toMatchObject({ error: 'invalid_grant' });
      expect(String(fourth.error_description)).toContain('longer than 3');
      // short-worker allows 2 only, so it cannot be the third.
      expect(await refused('short-worker', { subject_token: hop2.access_token })).toMatchObject({ error: 'invalid_grant' });
    });

    it('revoking a Passport revokes everything exchanged from it, three hops down, and only that', async () => {
      const person = await personTokens(server, ada);
      const hop1 = await exchange('assistant', person.access_token);
      const hop2 = await exchange('worker', hop1.access_token);
      const hop3 = await exchange('deep-worker', hop2.access_token);
      const sibling = await exchange('assistant', person.access_token);
      for (const token of [person.access_token, hop1.access_token, hop2.access_token, hop3.access_token]) expect((await introspect(token)).active).toBe(true);

      const revoked = await postForm(server, '/revoke', { token: hop1.access_token }, agentAuth('assistant'));
      expect(revoked.status).toBe(200);
      for (const token of [hop1.access_token, hop2.access_token, hop3.access_token]) expect(await introspect(token)).toEqual({ active: false });
      // Up the chain and beside it nothing changes.
      expect((await introspect(person.access_token)).active).toBe(true);
      expect((await introspect(sibling.access_token)).active).toBe(true);
      // A revoked link can't be exchanged further.
      expect(await refused('deep-worker', { subject_token: hop2.access_token })).toMatchObject({ error: 'invalid_request' });
      const record = (await server.deps.store.audit.list({ limit: 1000 })).find((r) => r.event === 'passport.revoked' && r.tokenJti === decodeJwt(hop1.access_token).jti);
      expect(record?.details).toMatchObject({ descendants_revoked: 2 });
    });

    it('revoking the person\'s refresh token family revokes every Passport agents got from its Passports', async () => {
      const person = await personTokens(server, ada);
      expect(person.refresh_token).toBeDefined();
      const hop1 = await exchange('assistant', person.access_token);
      const hop2 = await exchange('worker', hop1.access_token);
      const hop3 = await exchange('deep-worker', hop2.access_token);
      await postForm(server, '/revoke', { token: person.refresh_token! }, { authorization: basicAuth('web-app', secrets['web-app']) });
      for (const token of [person.access_token, hop1.access_token, hop2.access_token, hop3.access_token]) expect(await introspect(token)).toEqual({ active: false });
    });

    it('revoking the delegation ends every Passport that carries its id', async () => {
      const person = await personTokens(server, ada);
      const hop1 = await exchange('assistant', person.access_token);
      const hop2 = await exchange('worker', hop1.access_token);
      const did = decodeJwt(hop2.access_token).did as string;
      expect(await server.deps.store.delegations.revoke(did, 'operator', now())).toBe(true);
      expect(await introspect(hop1.access_token)).toEqual({ active: false });
      expect(await introspect(hop2.access_token)).toEqual({ active: false });
      expect((await introspect(person.access_token)).active).toBe(true);
      expect(await refused('deep-worker', { subject_token: hop2.access_token })).toMatchObject({ error: 'invalid_request' });
    });
  });

  it('a suspended agent gets nothing, and every Passport with it in the chain introspects inactive at once', async () => {
    const person = await personTokens(server, ada);
    const hop1 = await exchange('assistant', person.access_token);
    const hop2 = await exchange('worker', hop1.access_token);
    // Service to service: the assistant's own Passport, exchanged by svc, which acts for the assistant.
    const own = await client.clientCredentialsGrant(configs.get('assistant')!, { resource: api, scope: 'read-data' });
    const forService = await exchange('svc', own.access_token);
    expect(await verify(forService.access_token)).toMatchObject({ sub: 'assistant', act: { sub: 'svc' } });
    const file = join(server.configDir, 'clients/assistant.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `${original}\nstate: suspended\n`);
    try {
      expect(await server.reload('test')).toBe(true);
      expect(await introspect(hop1.access_token)).toEqual({ active: false });
      expect(await introspect(hop2.access_token)).toEqual({ active: false });
      expect((await introspect(person.access_token)).active).toBe(true);
      const response = await raw('assistant', { subject_token: person.access_token, subject_token_type: accessTokenType });
      expect(response.body).toMatchObject({ error: 'unauthorized_client', error_description: 'this agent is suspended' });
      const ownToken = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, agentAuth('assistant'));
      expect(ownToken.body).toMatchObject({ error: 'unauthorized_client' });
      // The next hop from a chain with a suspended actor is refused too, and so are its own Passports as subject tokens.
      expect(await refused('deep-worker', { subject_token: hop2.access_token })).toMatchObject({ error: 'invalid_grant' });
      expect(await introspect(own.access_token)).toEqual({ active: false });
      expect(await introspect(forService.access_token)).toEqual({ active: false });
      expect(await refused('svc', { subject_token: own.access_token })).toMatchObject({ error: 'invalid_grant', error_description: 'the subject token was issued to a client that is no longer active' });
    } finally {
      writeFileSync(file, original);
      await server.reload('test');
    }
    expect((await introspect(hop2.access_token)).active).toBe(true);
  });
});
