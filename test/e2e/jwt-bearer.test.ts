// The JWT bearer grant (RFC 7523) against a real server: assertions and ID-JAGs signed with test keys
// of issuers configured inline (config/issuers/), presented by agents with openid-client's
// genericGrantRequest; then every way an assertion can be wrong, each refused with invalid_grant
// (the reason only in the audit record) and leaving no delegation behind.
import { randomUUID } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { discover, postForm } from './support/clients.ts';
import { agentAuth, agentSecret, api, envName, reports } from './support/delegation.ts';
import { clientKey, type ClientKey } from './support/keys.ts';

const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const partner = 'https://partner.example.test';
const idp = 'https://idp.example.test';
const elsewhere = 'https://elsewhere.example.test';

const issuerYaml = (id: string, iss: string, key: ClientKey, accepts: string, extra = '') =>
  `id: ${id}\nissuer: ${iss}\njwks: ${JSON.stringify({ keys: [key.jwk] })}\naccepts: [${accepts}]\n${extra}`;

const agentYaml = (id: string, policy: string, grants = `[${jwtBearer}]`) =>
  [
    `client_id: ${id}`,
    'kind: agent',
    'owner: owner@example.test',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: \${env:${envName(id)}}`,
    `grant_types: ${grants}`,
    'resources:',
    `  ${api}:`,
    '    scopes: [read-data, write-data]',
    `  ${reports}:`,
    '    scopes: [reports.read]',
    `default_resource: ${api}`,
    'claims: [email]',
    'delegation:',
    ...policy.split('\n').map((line) => `  ${line}`),
    '',
  ].join('\n');

const agents: Record<string, string> = {
  // Trusts the partner (RFC 7523 assertions) and the IdP (ID-JAGs); acts for the eng group.
  'agent-b': agentYaml('agent-b', 'jwt_bearer_issuers: [partner, idp]\nact_for: { groups: [eng] }'),
  'other-agent': agentYaml('other-agent', 'jwt_bearer_issuers: [idp]\nact_for: { anyone: true }'),
  // Has the issuers, not the grant.
  'no-grant': agentYaml('no-grant', 'jwt_bearer_issuers: [partner]\nact_for: { anyone: true }', '[client_credentials]'),
};

describe('JWT bearer grant (RFC 7523) and ID-JAGs from trusted issuers', () => {
  let server: TestConsulate;
  let partnerKey: ClientKey;
  let idpKey: ClientKey;
  let elsewhereKey: ClientKey;
  let strangerKey: ClientKey;
  const configs = new Map<string, client.Configuration>();
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    partnerKey = await clientKey('ES256', 'partner-1');
    idpKey = await clientKey('RS256', 'idp-1');
    elsewhereKey = await clientKey('ES256', 'elsewhere-1');
    strangerKey = await clientKey('ES256', 'partner-1'); // same kid as the partner's, another key
    server = await startConsulate({
      files: {
        'issuers/partner.yaml': issuerYaml('partner', partner, partnerKey, 'jwt-bearer', 'max_lifetime_seconds: 120\n'),
        'issuers/idp.yaml': issuerYaml('idp', idp, idpKey, 'id-jag'),
        // Trusted by the server, named by no agent.
        'issuers/elsewhere.yaml': issuerYaml('elsewhere', elsewhere, elsewhereKey, 'jwt-bearer, id-jag'),
        ...Object.fromEntries(Object.entries(agents).map(([id, yaml]) => [`clients/${id}.yaml`, yaml])),
      },
      env: Object.fromEntries(Object.keys(agents).map((id) => [envName(id), hashSecret(agentSecret(id))])),
    });
    for (const id of Object.keys(agents)) configs.set(id, await discover(server, id, client.ClientSecretBasic(agentSecret(id))));
  });
  afterAll(async () => server?.stop());

  /** A plain RFC 7523 assertion from the partner about `sub`, unless claims or header say otherwise. */
  async function assertion(claims: JWTPayload = {}, options: { key?: ClientKey; typ?: string | undefined; iss?: string } = {}): Promise<string> {
    const t = now();
    const key = options.key ?? partnerKey;
    const header = { alg: key.jwk.alg as string, kid: key.kid, ...('typ' in options ? (options.typ === undefined ? {} : { typ: options.typ }) : {}) };
    return new SignJWT({ iss: options.iss ?? partner, sub: 'p-ada', aud: server.issuer, iat: t, exp: t + 60, jti: randomUUID(), email: 'ada@partner.example', groups: ['eng'], ...claims })
      .setProtectedHeader(header)
      .sign(key.privateKey);
  }
  /** An ID-JAG from the IdP for agent-b. */
  const idJag = (claims: JWTPayload = {}, options: { key?: ClientKey; typ?: string | undefined; iss?: string } = {}) =>
    assertion({ client_id: 'agent-b', resource: api, scope: 'read-data', ...claims }, { key: idpKey, iss: idp, typ: 'oauth-id-jag+jwt', ...options });

  const redeem = (agent: string, token: string, extra: Record<string, string> = {}) => client.genericGrantRequest(configs.get(agent)!, jwtBearer, { assertion: token, ...extra });
  const verify = async (token: string, audience = api) => (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience, typ: 'at+jwt' })).payload;
  const delegations = async () => (await server.deps.store.delegations.list({}, now())).length;
  const audit = async () => server.deps.store.audit.list({ limit: 10000 });

  async function refused(agent: string, form: Record<string, string>, expected: { error: string; reason: string }) {
    const before = await delegations();
    const response = await postForm(server, '/token', { grant_type: jwtBearer, ...form }, agentAuth(agent));
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toBe(expected.error);
    expect(response.text).not.toMatch(/stack|at .*\.ts/i);
    const denial = (await audit()).filter((r) => r.event === 'passport.denied').at(-1);
    expect(denial?.details).toMatchObject({ grant_type: jwtBearer, error: expected.error, reason: expected.reason });
    expect(await delegations()).toBe(before);
    return response.body;
  }
  const invalidAssertion = async (token: string, reason: string, agent = 'agent-b') =>
    expect(await refused(agent, { assertion: token }, { error: 'invalid_grant', reason: `assertion_${reason}` })).toEqual({ error: 'invalid_grant', error_description: 'assertion is invalid' });

  it('discovery lists the grant', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata.grant_types_supported).toContain(jwtBearer);
  });

  it('an RFC 7523 assertion: a Passport for the person it names, acted on by the agent; the same person every time', async () => {
    const tokens = await redeem('agent-b', await assertion(), { scope: 'read-data' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read-data');
    const claims = await verify(tokens.access_token);
    expect(claims).toMatchObject({ aud: api, act: { sub: 'agent-b' }, azp: 'agent-b', client_id: 'agent-b', orig_iss: partner, orig_sub: 'p-ada', email: 'ada@partner.example', scope: 'read-data' });
    expect(claims.did).toMatch(/^[0-9a-f-]{36}$/);
    // No authentication facts in the assertion: none in the Passport.
    expect(claims).not.toHaveProperty('auth_time');
    expect(await server.deps.store.subjects.accountsOf(claims.sub!)).toEqual([expect.objectContaining({ origIss: partner, origSub: 'p-ada', upstreamId: 'issuer:partner' })]);
    expect(await server.deps.store.delegations.find(claims.did as string)).toMatchObject({ origin: 'issuer:partner', clientId: 'agent-b', sub: claims.sub });

    // Same issuer and subject, same person; another subject, another person.
    const again = await verify((await redeem('agent-b', await assertion({ aud: [server.issuer] }))).access_token);
    expect(again.sub).toBe(claims.sub);
    // Nothing asked, nothing bounding: what the agent's policy allows at its default resource.
    expect(again.scope).toBe('read-data write-data');
    const other = await verify((await redeem('agent-b', await assertion({ sub: 'p-grace' }))).access_token);
    expect(other.sub).not.toBe(claims.sub);
  });

  it('an ID-JAG: the Passport narrows to its resource and scope, and carries the person\'s authentication', async () => {
    const t = now();
    const tokens = await redeem('agent-b', await idJag({ scope: 'read-data write-data', auth_time: t - 100, acr: 'urn:example:mfa', amr: ['pwd', 'hwk'] }), { scope: 'write-data' });
    const claims = await verify(tokens.access_token);
    expect(claims).toMatchObject({ aud: api, scope: 'write-data', act: { sub: 'agent-b' }, orig_iss: idp, auth_time: t - 100, acr: 'urn:example:mfa', amr: ['pwd', 'hwk'] });
    const receipt = (await audit()).find((r) => r.id === claims.receipt);
    expect(receipt?.details).toMatchObject({ assertion_kind: 'id-jag', assertion_issuer: 'idp' });
    // Without a scope parameter: the ID-JAG's scopes.
    expect((await verify((await redeem('agent-b', await idJag())).access_token)).scope).toBe('read-data');
  });

  it('refuses a replayed assertion or ID-JAG (jti single use, per issuer)', async () => {
    const once = await assertion();
    await redeem('agent-b', once);
    await invalidAssertion(once, 'replayed');
    const jag = await idJag();
    await redeem('agent-b', jag);
    await invalidAssertion(jag, 'replayed');
    // The same jti from another issuer is another assertion.
    const jti = randomUUID();
    await redeem('agent-b', await assertion({ jti }));
    expect((await redeem('agent-b', await idJag({ jti }))).access_token).toBeTruthy();
  });

  it('refuses an assertion for another audience, client, or of another type', async () => {
    await invalidAssertion(await assertion({ aud: 'https://as.elsewhere.example' }), 'wrong_audience');
    await invalidAssertion(await assertion({ aud: `${server.issuer}/introspect` }), 'wrong_audience');
    // rfc7523bis §4 and the ID-JAG draft: the issuer identifier as the sole audience, never the token endpoint.
    await invalidAssertion(await assertion({ aud: `${server.issuer}/token` }), 'wrong_audience');
    await invalidAssertion(await assertion({ aud: [server.issuer, 'https://as.elsewhere.example'] }), 'wrong_audience');
    await invalidAssertion(await idJag({ aud: `${server.issuer}/token` }), 'wrong_audience');
    await invalidAssertion(await idJag({ aud: [server.issuer, 'https://as.elsewhere.example'] }), 'wrong_audience');
    await invalidAssertion(await assertion({ aud: undefined }), 'bad_claims');
    // An ID-JAG issued to other-agent, presented by agent-b; and one without client_id.
    await invalidAssertion(await idJag({ client_id: 'other-agent' }), 'client_id_mismatch');
    await invalidAssertion(await idJag({ client_id: undefined }), 'bad_claims');
    // The other way round works for the agent it names.
    expect((await redeem('other-agent', await idJag({ client_id: 'other-agent' }))).access_token).toBeTruthy();
    // A Passport-typed token, and an ID-JAG without typ (then a plain assertion, which the IdP's config does not accept).
    await invalidAssertion(await idJag({}, { typ: 'at+jwt' }), 'wrong_typ');
    await invalidAssertion(await idJag({}, { typ: undefined }), 'kind_not_accepted');
    // The partner issues plain assertions only.
    await invalidAssertion(await assertion({ client_id: 'agent-b' }, { typ: 'oauth-id-jag+jwt' }), 'kind_not_accepted');
  });

  it('refuses unsigned, symmetric, forged and malformed assertions', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const t = now();
    const payload = b64({ iss: partner, sub: 'p-ada', aud: server.issuer, iat: t, exp: t + 60, jti: randomUUID() });
    await invalidAssertion(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, 'bad_signature');
    const hs256 = await new SignJWT({ iss: partner, sub: 'p-ada', aud: server.issuer, iat: t, exp: t + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: partnerKey.kid })
      .sign(new TextEncoder().encode('a-shared-secret-anyone-could-guess-0123456789'));
    await invalidAssertion(hs256, 'bad_signature');
    // Signed by another key under the partner's kid.
    await invalidAssertion(await assertion({}, { key: strangerKey }), 'bad_signature');
    // A valid assertion with its payload changed.
    const real = await assertion();
    const [h, p, s] = real.split('.') as [string, string, string];
    const widened = b64({ ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), sub: 'p-admin' });
    await invalidAssertion(`${h}.${widened}.${s}`, 'bad_signature');
    await invalidAssertion('not-a-jwt', 'malformed');
    expect(await refused('agent-b', {}, { error: 'invalid_request', reason: 'assertion is required' })).toMatchObject({ error_description: 'assertion is required' });
  });

  it('refuses expired, not yet valid, too long-lived and jti-less assertions', async () => {
    const t = now();
    await invalidAssertion(await assertion({ iat: t - 200, exp: t - 100 }), 'expired');
    await invalidAssertion(await assertion({ nbf: t + 600 }), 'not_yet_valid');
    await invalidAssertion(await assertion({ iat: t + 100, exp: t + 110 }), 'not_yet_valid');
    // The partner allows 120 s: exp - iat of 600, or an exp an hour away without iat.
    await invalidAssertion(await assertion({ iat: t - 10, exp: t + 590 }), 'too_long_lived');
    await invalidAssertion(await assertion({ iat: undefined, exp: t + 3600 }), 'too_long_lived');
    await invalidAssertion(await assertion({ jti: undefined }), 'bad_claims');
    await invalidAssertion(await assertion({ exp: undefined }), 'bad_claims');
    // An ID-JAG must say when it was issued.
    await invalidAssertion(await idJag({ iat: undefined }), 'bad_claims');
    // Within the limits: accepted.
    expect((await redeem('agent-b', await assertion({ iat: t - 10, exp: t + 100 }))).access_token).toBeTruthy();
  });

  it('refuses issuers that are not trusted, or not by this agent, and agents without the grant', async () => {
    await invalidAssertion(await assertion({}, { iss: 'https://unknown.example.test', key: strangerKey }), 'untrusted_issuer');
    // The server trusts "elsewhere"; agent-b does not name it.
    await invalidAssertion(await assertion({}, { iss: elsewhere, key: elsewhereKey }), 'issuer_not_allowed');
    // other-agent names only the IdP.
    await invalidAssertion(await assertion(), 'issuer_not_allowed', 'other-agent');
    const response = await postForm(server, '/token', { grant_type: jwtBearer, assertion: await assertion() }, agentAuth('no-grant'));
    expect(response.body).toMatchObject({ error: 'unauthorized_client' });
  });

  it('only narrows: scope or resource beyond the ID-JAG, scope beyond the policy, people the agent may not act for', async () => {
    await refused('agent-b', { assertion: await idJag(), scope: 'read-data write-data' }, { error: 'invalid_scope', reason: 'scope_widened' });
    await refused('agent-b', { assertion: await idJag(), resource: reports }, { error: 'invalid_target', reason: 'audience_widened' });
    await refused('agent-b', { assertion: await idJag({ resource: 'https://unknown.example' }) }, { error: 'invalid_target', reason: 'unknown_target' });
    // Within the ID-JAG, outside the agent's policy (admin-action is a scope of the API the agent may not have).
    await refused('agent-b', { assertion: await idJag({ scope: 'read-data admin-action' }), scope: 'admin-action' }, { error: 'invalid_scope', reason: 'scope_not_allowed' });
    // A plain assertion bounds nothing, the policy still does.
    await refused('agent-b', { assertion: await assertion(), scope: 'admin-action' }, { error: 'invalid_scope', reason: 'scope_not_allowed' });
    // agent-b acts for eng only.
    await refused('agent-b', { assertion: await assertion({ sub: 'p-sam', groups: ['sales'] }) }, { error: 'invalid_grant', reason: 'subject_not_allowed' });
  });
});
