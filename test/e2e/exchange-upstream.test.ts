// Token exchange (RFC 8693) of upstream tokens: another application at a real stand-in IdP (shaped
// like Okta, Entra — single and multi-tenant — and Auth0) gets a person's ID token and access
// tokens (JWT, or opaque and introspected at Okta); an agent exchanges them at Consulate with
// openid-client; the Passport is verified with jose against Consulate's /jwks. Then the attacks:
// forged, expired, unsigned or HMAC tokens, the wrong kind of token, the wrong audience, an
// upstream the agent may not use, a mapping deny rule, an inactive opaque token, an upstream
// that is down. A refused exchange leaves no delegation, no person and no linked account.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { accountFor, footprint } from './support/rows.ts';
import { appTokens } from './support/upstream-tokens.ts';
import { DEFAULT_ENTRA_TENANT_ID as CONTOSO, defaultTenantAccounts, FABRIKAM_ENTRA_TENANT_ID as FABRIKAM, startUpstream, type Upstream, type UpstreamApi } from './support/upstreams.ts';

const api = 'https://api.demo.example';
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const types = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
};
/** APIs at the stand-ins: Consulate's (JWT and, at Okta, opaque access tokens) and someone else's. */
const consulateApi = 'api://consulate';
const opaqueApi = 'api://consulate-opaque';
const otherApi = 'api://payroll';
const apis: UpstreamApi[] = [
  { resource: consulateApi, scopes: ['exchange'] },
  { resource: opaqueApi, scopes: ['exchange'], format: 'opaque' },
  { resource: otherApi, scopes: ['payroll'] },
];

const upstreamSecret = 'upstream-client-secret-0123456789abcdef';
/** "Another app" at each upstream: whose tokens the person hands to the agent. Never contacted. */
const app = { client_id: 'agent-app', client_secret: 'agent-app-secret-0123456789abcdef', redirect_uris: ['http://127.0.0.1:9/agent-app/callback'] };

const secretOf = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
const envOf = (id: string) => `${id.toUpperCase().replace(/-/g, '_')}_SECRET_HASH`;
const agentYaml = (id: string, upstreams: string[]) =>
  [
    `client_id: ${id}`,
    'kind: agent',
    `name: Agent ${id}`,
    'owner: owner@example.test',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: \${env:${envOf(id)}}`,
    `grant_types: [${exchangeGrant}]`,
    'resources:',
    `  ${api}:`,
    '    scopes: [read-data]',
    'delegation:',
    '  act_for: { anyone: true }',
    `  subject_token_upstreams: [${upstreams.join(', ')}]`,
  ].join('\n');
const agents: Record<string, string[]> = {
  assistant: ['okta', 'entra', 'auth0', 'contoso'],
  'okta-only': ['okta'],
  'down-agent': ['down'],
};

const upstreamYaml = (id: string, kind: string, issuer: string, lines: string[] = [], exchange: string[] = []) =>
  [
    `id: ${id}`,
    `kind: ${kind}`,
    `issuer: ${issuer}`,
    'client_id: consulate',
    'client_secret: ${env:UPSTREAM_SECRET}',
    ...lines,
    'exchange:',
    '  id_token_audiences: [agent-app]',
    `  access_token_audiences: ["${consulateApi}", "${opaqueApi}"]`,
    ...exchange,
  ].join('\n');

/** Auth0's preset, plus a deny rule for one account (bob). */
const auth0Mapping = [
  'id: auth0-agents',
  'subject: claims.sub',
  'claims:',
  '  email:',
  '    expr: claims.email',
  '    transform: [trim, lower]',
  '  email_verified:',
  '    expr: claims.email_verified == true',
  '    default: false',
  'deny:',
  `  - when: "claims.sub == 'auth0|def456'"`,
  '    reason: This account may not be delegated to agents.',
].join('\n');

describe('token exchange of upstream tokens', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let entra: Upstream;
  let auth0: Upstream;
  let multi: Upstream;
  let base: string;
  let downIssuer: string;
  const configs = new Map<string, client.Configuration>();
  const username = (upstream: Upstream, name: string) => upstream.accounts.find((a) => a.username.startsWith(`${name}@`))!.username;
  const account = (upstream: Upstream, name: string) => upstream.accounts.find((a) => a.username.startsWith(`${name}@`))!;
  /** Every subject token the tests sent: none may appear in Consulate's logs. */
  const sent: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    downIssuer = `http://127.0.0.1:${await freePort()}`;
    const clients = (id: string) => [{ client_id: 'consulate', client_secret: upstreamSecret, redirect_uris: [`${base}/callback/${id}`] }, app];
    [okta, entra, auth0, multi] = await Promise.all([
      startUpstream({ kind: 'okta', clients: clients('okta'), apis }),
      startUpstream({ kind: 'entra', clients: clients('entra'), apis }),
      startUpstream({ kind: 'auth0', clients: clients('auth0'), apis }),
      startUpstream({ kind: 'entra', multiTenant: { tenants: defaultTenantAccounts() }, clients: clients('contoso'), apis }),
    ]);
    const files: Record<string, string> = {
      'upstreams/okta.yaml': upstreamYaml('okta', 'okta', okta.issuer, [], [
        '  introspection:',
        `    endpoint: ${okta.issuer}/v1/introspect`,
        '    client_id: consulate',
        '    client_secret: ${env:UPSTREAM_SECRET}',
      ]),
      'upstreams/entra.yaml': upstreamYaml('entra', 'entra', entra.issuer),
      'upstreams/auth0.yaml': upstreamYaml('auth0', 'auth0', auth0.issuer, ['mapping: auth0-agents']),
      'upstreams/contoso.yaml': upstreamYaml('contoso', 'entra', multi.authority!, [`allowed_tenants: [${CONTOSO}]`]),
      'upstreams/down.yaml': upstreamYaml('down', 'oidc', downIssuer, ['timeout_ms: 1000'], [
        '  introspection:',
        `    endpoint: ${downIssuer}/introspect`,
        '    client_id: consulate',
        '    client_secret: ${env:UPSTREAM_SECRET}',
      ]),
      'mappings/auth0-agents.yaml': auth0Mapping,
      ...Object.fromEntries(Object.entries(agents).map(([id, upstreams]) => [`clients/${id}.yaml`, agentYaml(id, upstreams)])),
    };
    const env = { UPSTREAM_SECRET: upstreamSecret, ...Object.fromEntries(Object.keys(agents).map((id) => [envOf(id), hashSecret(secretOf(id))])) };
    server = await startConsulate({ port, files, env });
    for (const id of Object.keys(agents)) configs.set(id, await discover(server, id, client.ClientSecretBasic(secretOf(id))));
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([okta, entra, auth0, multi].map((u) => u?.close()));
  });

  const verifyPassport = async (token: string) =>
    (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt' })).payload;

  /** Rows in a table of the running server's database (all of them: live, expired or revoked). */
  function rows(table: 'delegations'): number {
    const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /** The agent exchanges the token with openid-client; the Passport, verified against /jwks. */
  async function exchange(agent: string, subjectToken: string, subjectTokenType: string) {
    sent.push(subjectToken);
    const response = await client.genericGrantRequest(configs.get(agent)!, exchangeGrant, { subject_token: subjectToken, subject_token_type: subjectTokenType, resource: api, scope: 'read-data' });
    expect(response.issued_token_type).toBe(types.accessToken);
    expect(response.token_type).toBe('bearer');
    return { response, passport: await verifyPassport(response.access_token) };
  }

  async function refused(agent: string, subjectToken: string, subjectTokenType: string, status = 400): Promise<Record<string, unknown>> {
    sent.push(subjectToken);
    const before = { delegations: rows('delegations'), footprint: await footprint(server) };
    const response = await postForm(
      server,
      '/token',
      { grant_type: exchangeGrant, subject_token: subjectToken, subject_token_type: subjectTokenType, resource: api, scope: 'read-data' },
      { authorization: basicAuth(agent, secretOf(agent)) },
    );
    expect(response.status, response.text).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack/i);
    // Nothing left behind: no delegation, no person, no linked upstream account.
    expect(rows('delegations')).toBe(before.delegations);
    expect(await footprint(server)).toEqual(before.footprint);
    return response.body;
  }

  const invalidSubject = { error: 'invalid_request', error_description: 'subject_token is invalid' };

  /** The reason a refusal was recorded with (the audit record of the denial). */
  async function lastDenialReason(): Promise<unknown> {
    const records = await server.deps.store.audit.list({ limit: 1000 });
    return records.filter((r) => r.event === 'passport.denied').at(-1)?.details.reason;
  }

  /** A browser login through Consulate at `upstreamId`; the local person it ends with. */
  async function browserLogin(upstream: Upstream, upstreamId: string, name: string): Promise<string> {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/${upstreamId}?return_to=/session`);
    expect(start.status).toBe(303);
    const done = await jar.fetch(await upstream.login(start.headers.get('location') as string, username(upstream, name)));
    expect(done.status).toBe(303);
    const login = (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'login.upstream').at(-1)!;
    return login.subject!;
  }

  /** The stand-in's own signing key, to play an upstream that signs something it should not. */
  const upstreamKey = (upstream: Upstream) => importJWK(upstream.signingKey, 'RS256');
  const kidOf = (upstream: Upstream) => upstream.signingKey.kid as string;

  describe('Okta', () => {
    it('an ID token of another app becomes a Passport for the same person a browser login gets, acted on by the agent', async () => {
      const sub = await browserLogin(okta, 'okta', 'alice');
      const tokens = await appTokens(okta, app, username(okta, 'alice'));
      const { response, passport } = await exchange('assistant', tokens.idToken, types.idToken);
      expect(response.scope).toBe('read-data');
      expect(passport).toMatchObject({
        sub,
        act: { sub: 'assistant' },
        azp: 'assistant',
        client_id: 'assistant',
        aud: api,
        scope: 'read-data',
        orig_iss: okta.issuer,
        orig_sub: account(okta, 'alice').id,
      });
      expect(passport.did).toMatch(/^[0-9a-f-]{36}$/);
      // The person's authentication at Okta travels.
      expect(passport.auth_time).toBe(tokens.claims.auth_time);
      expect(passport.exp!).toBeLessThanOrEqual(tokens.claims.exp);

      const delegation = await server.deps.store.delegations.find(passport.did as string);
      expect(delegation).toMatchObject({ sub, clientId: 'assistant', resource: api, origin: 'upstream:okta' });
      const records = await server.deps.store.audit.list({ limit: 1000 });
      expect(records.filter((r) => r.event === 'exchange.upstream_subject').at(-1)).toMatchObject({
        subject: sub,
        details: { upstream: 'okta', token_form: 'id_token', orig_iss: okta.issuer, orig_sub: account(okta, 'alice').id, linked_by: 'account' },
      });
      expect(records.find((r) => r.id === passport.receipt)).toMatchObject({ event: 'passport.exchanged', subject: sub, details: { subject_origin: 'upstream:okta', did: passport.did } });
    });

    it('a JWT access token for Consulate\'s API, and the same token typed as a plain jwt', async () => {
      const sub = await browserLogin(okta, 'okta', 'alice');
      const tokens = await appTokens(okta, app, username(okta, 'alice'), { scope: 'openid exchange', resource: consulateApi });
      expect(decodeProtectedHeader(tokens.accessToken).typ).toBe('at+jwt');
      expect(decodeJwt(tokens.accessToken).aud).toBe(consulateApi);
      for (const type of [types.accessToken, types.jwt]) {
        const { passport } = await exchange('assistant', tokens.accessToken, type);
        expect(passport).toMatchObject({ sub, act: { sub: 'assistant' }, azp: 'assistant', orig_iss: okta.issuer, orig_sub: account(okta, 'alice').id });
        expect(passport.did).toBeTruthy();
      }
    });

    it('an opaque access token, checked at Okta\'s introspection endpoint', async () => {
      const sub = await browserLogin(okta, 'okta', 'bob');
      const tokens = await appTokens(okta, app, username(okta, 'bob'), { scope: 'openid exchange', resource: opaqueApi });
      expect(tokens.accessToken.split('.')).toHaveLength(1);
      const { passport } = await exchange('assistant', tokens.accessToken, types.accessToken);
      expect(passport).toMatchObject({ sub, act: { sub: 'assistant' }, azp: 'assistant', orig_iss: okta.issuer, orig_sub: account(okta, 'bob').id });
      const records = await server.deps.store.audit.list({ limit: 1000 });
      expect(records.filter((r) => r.event === 'exchange.upstream_subject').at(-1)?.details.token_form).toBe('introspected');
    });

    it('an opaque token Okta says is inactive (revoked there, or never issued) is refused', async () => {
      const tokens = await appTokens(okta, app, username(okta, 'alice'), { scope: 'openid exchange', resource: opaqueApi });
      const config = await client.discovery(new URL(okta.issuer), app.client_id, undefined, client.ClientSecretBasic(app.client_secret), { execute: [client.allowInsecureRequests] });
      await client.tokenRevocation(config, tokens.accessToken);
      expect(await refused('assistant', tokens.accessToken, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_inactive');
      expect(await refused('assistant', 'made-up-opaque-token-0123456789', types.accessToken)).toEqual(invalidSubject);
      // An opaque token is never an ID token: it is not even sent to the upstream.
      expect(await refused('assistant', tokens.accessToken, types.idToken)).toEqual(invalidSubject);
    });
  });

  describe('Entra', () => {
    it('an access token for Consulate\'s API maps oid like a login: the same person as a browser login', async () => {
      const sub = await browserLogin(entra, 'entra', 'alice');
      const tokens = await appTokens(entra, app, username(entra, 'alice'), { scope: 'openid profile exchange', resource: consulateApi });
      expect(decodeJwt(tokens.accessToken)).toMatchObject({ oid: account(entra, 'alice').claims.oid, tid: CONTOSO });
      const { passport } = await exchange('assistant', tokens.accessToken, types.accessToken);
      expect(passport).toMatchObject({ sub, act: { sub: 'assistant' }, azp: 'assistant', orig_iss: entra.issuer, orig_sub: account(entra, 'alice').claims.oid });
      expect(passport.did).toBeTruthy();
    });

    it('an ID token (typed id_token or jwt) of another app in the tenant', async () => {
      const tokens = await appTokens(entra, app, username(entra, 'alice'));
      const first = await exchange('assistant', tokens.idToken, types.idToken);
      const second = await exchange('assistant', tokens.idToken, types.jwt);
      expect(first.passport.orig_sub).toBe(account(entra, 'alice').claims.oid);
      expect(second.passport.sub).toBe(first.passport.sub);
      // Each exchange of an upstream token starts its own delegation.
      expect(second.passport.did).not.toBe(first.passport.did);
    });

    it('multi-tenant authority: a token of an allowed tenant is the tenant issuer\'s; another tenant\'s is refused', async () => {
      const contoso = await appTokens(multi, app, 'alice@contoso.example', { tenantId: CONTOSO });
      const { passport } = await exchange('assistant', contoso.idToken, types.idToken);
      expect(passport).toMatchObject({ act: { sub: 'assistant' }, orig_iss: `${multi.url}/${CONTOSO}/v2.0`, orig_sub: '3f2504e0-4f89-41d3-9a0c-0305e82c3301' });

      const fabrikam = await appTokens(multi, app, 'carol@fabrikam.example', { tenantId: FABRIKAM });
      expect(decodeJwt(fabrikam.idToken).iss).toBe(`${multi.url}/${FABRIKAM}/v2.0`);
      expect(await refused('assistant', fabrikam.idToken, types.idToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_tenant_not_allowed');
    });
  });

  describe('Auth0', () => {
    it('an access token for Consulate\'s API: sub auth0|…, through the operator\'s rule set', async () => {
      const tokens = await appTokens(auth0, app, username(auth0, 'alice'), { scope: 'openid exchange', resource: consulateApi });
      const { passport } = await exchange('assistant', tokens.accessToken, types.accessToken);
      expect(passport).toMatchObject({ act: { sub: 'assistant' }, azp: 'assistant', orig_iss: auth0.issuer, orig_sub: 'auth0|abc123' });
      const person = await server.deps.store.subjects.claimsOf(passport.sub!);
      expect(person).toMatchObject({ upstream: 'auth0', orig_sub: 'auth0|abc123' });
    });

    it('a mapping deny rule refuses the person, and the denial is recorded with its rule', async () => {
      const tokens = await appTokens(auth0, app, username(auth0, 'bob'), { scope: 'openid exchange', resource: consulateApi });
      expect(await refused('assistant', tokens.accessToken, types.accessToken)).toEqual(invalidSubject);
      const denied = (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'exchange.upstream_denied').at(-1);
      expect(denied?.details).toMatchObject({ upstream: 'auth0', reason: 'denied', rule: 0, message: 'This account may not be delegated to agents.' });
      expect(await lastDenialReason()).toBe('subject_token_mapping_denied');
      expect(accountFor(server, 'auth0|def456')).toBeUndefined();
    });
  });

  describe('attacks', () => {
    /** A real Okta access token's claims, re-signed as an attacker would. */
    async function oktaClaims(name = 'alice'): Promise<JWTPayload> {
      return decodeJwt((await appTokens(okta, app, username(okta, name), { scope: 'openid exchange', resource: consulateApi })).accessToken);
    }

    it('a token with Okta\'s iss (and kid) signed by a key that is not Okta\'s', async () => {
      const claims = await oktaClaims();
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kidOf(okta) }).sign(privateKey);
      expect(await refused('assistant', forged, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_bad_signature');
      const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'attacker-key' }).sign(privateKey);
      expect(await refused('assistant', unknownKid, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_unknown_key');
    });

    it('an expired token, even signed by Okta', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({ ...(await oktaClaims()), iat: now - 7200, exp: now - 3600 }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kidOf(okta) }).sign(await upstreamKey(okta));
      expect(await refused('assistant', expired, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_expired');
    });

    it('alg none and HS256 are refused whatever they say', async () => {
      const claims = await oktaClaims();
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      expect(await refused('assistant', unsigned, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_alg_not_allowed');
      // HMAC with a key an attacker could guess (here: the upstream's client secret).
      const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: kidOf(okta) }).sign(new TextEncoder().encode(upstreamSecret));
      expect(await refused('assistant', hmac, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_alg_not_allowed');
    });

    it('an ID token presented as an access token, and an access token presented as an ID token', async () => {
      for (const [upstream, scope] of [[okta, 'openid exchange'], [entra, 'openid profile exchange']] as const) {
        const tokens = await appTokens(upstream, app, username(upstream, 'bob'), { scope, resource: consulateApi });
        expect(await refused('assistant', tokens.idToken, types.accessToken)).toEqual(invalidSubject);
        expect(await lastDenialReason()).toBe('subject_token_id_token_as_access_token');
        expect(await refused('assistant', tokens.accessToken, types.idToken)).toEqual(invalidSubject);
        expect(await lastDenialReason()).toBe('subject_token_access_token_as_id_token');
      }
    });

    it('an access token for another API at the upstream (aud not accepted)', async () => {
      const tokens = await appTokens(okta, app, username(okta, 'bob'), { scope: 'openid payroll', resource: otherApi });
      expect(decodeJwt(tokens.accessToken).aud).toBe(otherApi);
      expect(await refused('assistant', tokens.accessToken, types.accessToken)).toEqual(invalidSubject);
      expect(await refused('assistant', tokens.accessToken, types.jwt)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_audience');
    });

    it('a token already delegated upstream (act) is refused', async () => {
      const delegated = await new SignJWT({ ...(await oktaClaims('bob')), act: { sub: 'some-upstream-agent' } }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kidOf(okta) }).sign(await upstreamKey(okta));
      expect(await refused('assistant', delegated, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_already_delegated');
    });

    it('an upstream the agent may not take tokens from: invalid_grant, and the person is not even linked', async () => {
      const tokens = await appTokens(entra, app, username(entra, 'bob'), { scope: 'openid profile exchange', resource: consulateApi });
      expect(await refused('okta-only', tokens.accessToken, types.accessToken)).toMatchObject({ error: 'invalid_grant' });
      expect(await lastDenialReason()).toBe('upstream_not_allowed');
      expect(accountFor(server, account(entra, 'bob').claims.oid as string)).toBeUndefined();
      // Nor is an opaque token sent to an upstream it may not use: Okta, which would vouch for
      // this one, is not asked for down-agent (which may only use `down`, and `down` is down).
      const opaque = await appTokens(okta, app, username(okta, 'bob'), { scope: 'openid exchange', resource: opaqueApi });
      expect(await refused('down-agent', opaque.accessToken, types.accessToken, 503)).toMatchObject({ error: 'temporarily_unavailable' });
    });

    it('a token of an issuer that is no upstream trusted for exchange', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const stranger = await new SignJWT({ sub: 'x', aud: consulateApi }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://idp.attacker.example').setIssuedAt().setExpirationTime('5m').sign(privateKey);
      expect(await refused('assistant', stranger, types.accessToken)).toEqual(invalidSubject);
      expect(await lastDenialReason()).toBe('subject_token_untrusted_issuer');
    });

    it('an upstream that is down: temporarily_unavailable (503), no stack trace, nothing stored', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ sub: 'someone', aud: consulateApi }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }).setIssuer(downIssuer).setIssuedAt().setExpirationTime('5m').sign(privateKey);
      const body = await refused('down-agent', token, types.accessToken, 503);
      expect(body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(String(body.error_description)).not.toContain('127.0.0.1');
      expect(await lastDenialReason()).toBe('upstream_unreachable');
      // Opaque: its introspection endpoint is down too.
      expect(await refused('down-agent', 'an-opaque-token-0123456789', types.accessToken, 503)).toMatchObject({ error: 'temporarily_unavailable' });
      const warning = server.logs.filter((l) => l.msg === 'upstream unavailable for a token exchange subject token').at(-1);
      expect(warning?.reason).toBe('unreachable');
    });
  });

  it('no subject token ever appears in the logs', () => {
    const logs = server.rawLogs();
    expect(sent.length).toBeGreaterThan(10);
    for (const token of sent) expect(logs).not.toContain(token);
  });
});
