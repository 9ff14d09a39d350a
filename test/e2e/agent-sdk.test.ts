// The agent SDK (src/sdk/agent-client.ts) against a started Consulate: client credentials with a
// secret and with private_key_jwt, the Passport cache (a second call does not reach /token), DPoP-
// bound Passports also when the server demands nonces, token exchange of a person's Passport, a
// paused exchange resumed after approval, and OAuth errors as ConsulateOAuthError.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { decideApproval } from '../../src/consent/approvals.ts';
import { approverFrom } from '../../src/consent/approvers.ts';
import { ConsulateOAuthError, createAgentClient, type AgentClientOptions, type Pending } from '../../src/sdk/index.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import { clientKey, jwtClientYaml, type ClientKey } from './support/keys.ts';

const root = resolve(import.meta.dirname, '../..');
const cibaGrant = 'urn:openid:params:grant-type:ciba';
const policy = ['rules:', '  - name: agent-writes', '    when: client.kind == "agent" && "write-data" in scopes', '    then: { obligations: { consent: { approvers: subject, validity_seconds: 60 } } }', 'default: allow', ''].join('\n');
const delegation = 'act_for: { anyone: true }\nsubject_token_clients: [web-app]';
const writerYaml = agentYaml('writer', delegation).replace(`grant_types: [client_credentials, ${exchangeGrant}]`, `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}]`);

/** Counts the requests each path receives, through the SDK's fetch hook. */
function countingFetch() {
  const hits = new Map<string, number>();
  const hook: NonNullable<AgentClientOptions['fetch']> = (url, init) => {
    const path = new URL(url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    return fetch(url, init as RequestInit);
  };
  return { hook, hits: (path: string) => hits.get(path) ?? 0 };
}

async function rejection(promise: Promise<unknown>): Promise<ConsulateOAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConsulateOAuthError);
  return error as ConsulateOAuthError;
}

describe('agent SDK', () => {
  let server: TestConsulate;
  let ada: Person;
  let key: ClientKey;
  const verify = async (token: string) => (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt' })).payload;
  const agent = (extra: Partial<AgentClientOptions> = {}) => createAgentClient({ issuer: server.issuer, clientId: 'agent-basic', clientSecret: secrets['agent-basic'], allowInsecureLoopback: true, ...extra });
  const writer = (extra: Partial<AgentClientOptions> = {}) => createAgentClient({ issuer: server.issuer, clientId: 'writer', clientSecret: agentSecret('writer'), allowInsecureLoopback: true, ...extra });
  const openApprovalId = async () => {
    const open = (await server.deps.store.approvals.listOpen(server.deps.now())).filter((r) => r.clientId === 'writer' && r.kind === 'exchange');
    expect(open).toHaveLength(1);
    return open[0]!.id;
  };

  beforeAll(async () => {
    key = await clientKey('ES256', 'sdk-key');
    server = await startConsulate({
      files: {
        'policies/agents.yaml': policy,
        'consulate.yaml': `${readFileSync(resolve(root, 'test/fixtures/config/consulate.yaml'), 'utf8')}ciba:\n  interval_seconds: 1\n`,
        'clients/writer.yaml': writerYaml,
        'clients/jwt-agent.yaml': jwtClientYaml('jwt-agent', { jwks: [key.jwk] }),
      },
      env: { [envName('writer')]: hashSecret(agentSecret('writer')) },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true });
  });
  afterAll(async () => server?.stop());

  it('refuses an http issuer unless it is loopback and allowed', () => {
    expect(() => createAgentClient({ issuer: server.issuer, clientId: 'agent-basic', clientSecret: 'x' })).toThrow(TypeError);
    expect(() => createAgentClient({ issuer: 'http://consulate.example', clientId: 'agent-basic', clientSecret: 'x', allowInsecureLoopback: true })).toThrow(TypeError);
    expect(() => createAgentClient({ issuer: 'https://consulate.example', clientId: 'agent-basic' })).toThrow(TypeError);
  });

  it('client credentials with client_secret_basic', async () => {
    const tokens = await agent({ cache: false }).clientCredentials({ resource: api, scope: 'read-data' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read-data', expires_in: 300 });
    expect(await verify(tokens.access_token)).toMatchObject({ sub: 'agent-basic', client_id: 'agent-basic', aud: api, scope: 'read-data' });
    expect((await verify(tokens.access_token)).cnf).toBeUndefined();
  });

  it('client credentials with private_key_jwt', async () => {
    const sdk = createAgentClient({ issuer: server.issuer, clientId: 'jwt-agent', privateKey: key.privateKey, kid: key.kid, allowInsecureLoopback: true });
    const tokens = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    expect(await verify(tokens.access_token)).toMatchObject({ sub: 'jwt-agent', client_id: 'jwt-agent', scope: 'read-data' });
  });

  it('caches Passports per target: a second call does not reach /token, another scope does, expiry skew refetches', async () => {
    const counter = countingFetch();
    let now = Math.floor(Date.now() / 1000);
    const sdk = agent({ fetch: counter.hook, clock: () => now });
    const first = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    expect(counter.hits('/token')).toBe(1);
    expect(await sdk.clientCredentials({ resource: api, scope: 'read-data' })).toEqual(first);
    expect(counter.hits('/token')).toBe(1);
    const details = [{ type: 'tool', tool: 'search', actions: ['call'] }];
    const detailed = await sdk.clientCredentials({ resource: api, scope: 'read-data', authorizationDetails: details });
    expect(counter.hits('/token')).toBe(2);
    expect(detailed.access_token).not.toBe(first.access_token);
    expect(detailed.authorization_details).toEqual(details);
    expect(await sdk.clientCredentials({ resource: api, scope: 'read-data', authorizationDetails: details })).toEqual(detailed);
    expect(counter.hits('/token')).toBe(2);
    await sdk.clientCredentials({ resource: api, scope: 'read-data write-data' });
    expect(counter.hits('/token')).toBe(3);
    // 300 s Passports, 30 s skew: reused at +269 s, fetched again at +270 s.
    now += 269;
    expect(await sdk.clientCredentials({ resource: api, scope: 'read-data' })).toEqual(first);
    expect(counter.hits('/token')).toBe(3);
    now += 1;
    expect((await sdk.clientCredentials({ resource: api, scope: 'read-data' })).access_token).not.toBe(first.access_token);
    expect(counter.hits('/token')).toBe(4);
    // Discovery once per client instance.
    expect(counter.hits('/.well-known/openid-configuration')).toBe(1);
  });

  it('DPoP: one key pair per instance binds the Passports (cnf.jkt), token_type DPoP', async () => {
    const sdk = agent({ dpop: true, cache: false });
    const tokens = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    const pair = await sdk.dpopKeyPair();
    expect(pair).toBeDefined();
    const jkt = await calculateJwkThumbprint(await exportJWK(pair!.publicKey), 'sha256');
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect((await verify(tokens.access_token)).cnf).toEqual({ jkt });
    const again = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    expect((await verify(again.access_token)).cnf).toEqual({ jkt });
  });

  it("exchanges a person's Passport for one that names the agent as actor", async () => {
    const subject = (await personTokens(server, ada)).access_token;
    const counter = countingFetch();
    const sdk = writer({ fetch: counter.hook });
    const tokens = await sdk.exchange(subject, { resource: api, scope: 'read-data' });
    expect(tokens.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(await verify(tokens.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, client_id: 'writer', scope: 'read-data' });
    // Cached per subject token: the same exchange again does not reach /token; another subject does.
    expect(await sdk.exchange(subject, { resource: api, scope: 'read-data' })).toEqual(tokens);
    expect(counter.hits('/token')).toBe(1);
    const other = (await personTokens(server, ada)).access_token;
    expect((await sdk.exchange(other, { resource: api, scope: 'read-data' })).access_token).not.toBe(tokens.access_token);
    expect(counter.hits('/token')).toBe(2);
  });

  it('a paused exchange calls onPending, then collects the Passport once the person approves', async () => {
    const subject = (await personTokens(server, ada, { resourceScopes: ['read-data', 'write-data'] })).access_token;
    const pendings: Pending[] = [];
    let decided: Promise<unknown> | undefined;
    const tokens = await writer().exchange(subject, {
      resource: api,
      scope: 'write-data',
      onPending: (pending) => {
        pendings.push(pending);
        decided = openApprovalId().then((id) => decideApproval(server.deps, id, approverFrom(ada.sub, ada.claims), 'approve'));
      },
    });
    expect(pendings).toEqual([{ auth_req_id: expect.any(String), interval: 1, expires_in: 60 }]);
    expect(await decided).toMatchObject({ status: 'recorded' });
    expect(await verify(tokens.access_token)).toMatchObject({ sub: ada.sub, act: { sub: 'writer' }, scope: 'write-data', approval: expect.any(String) });
  });

  it('surfaces OAuth errors as ConsulateOAuthError: invalid_scope, and access_denied after a denial', async () => {
    const scope = await rejection(agent().clientCredentials({ resource: api, scope: 'admin-action' }));
    expect(scope).toMatchObject({ code: 'invalid_scope', status: 400 });

    const subject = (await personTokens(server, ada, { resourceScopes: ['read-data', 'write-data'] })).access_token;
    let pending = 0;
    const denied = await rejection(
      writer().exchange(subject, {
        resource: api,
        scope: 'write-data',
        onPending: () => {
          pending += 1;
          void openApprovalId().then((id) => decideApproval(server.deps, id, approverFrom(ada.sub, ada.claims), 'deny'));
        },
      }),
    );
    expect(pending).toBe(1);
    expect(denied).toMatchObject({ code: 'access_denied', status: 400 });
  });

  it('a bad client secret is invalid_client with status 401', async () => {
    const error = await rejection(createAgentClient({ issuer: server.issuer, clientId: 'agent-basic', clientSecret: 'wrong', allowInsecureLoopback: true }).clientCredentials({ resource: api }));
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
  });
});

describe('agent SDK with DPoP server nonces', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': 'listen: { host: 127.0.0.1, port: 0 }\ndpop: { nonce_endpoints: [token] }\n' } });
  });
  afterAll(async () => server?.stop());

  it('retries with the nonce the server hands out and keeps using it', async () => {
    const statuses: number[] = [];
    const sdk = createAgentClient({
      issuer: server.issuer,
      clientId: 'agent-basic',
      clientSecret: secrets['agent-basic'],
      allowInsecureLoopback: true,
      dpop: true,
      cache: false,
      fetch: async (url, init) => {
        const response = await fetch(url, init as RequestInit);
        if (new URL(url).pathname === '/token') statuses.push(response.status);
        return response;
      },
    });
    const tokens = await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    expect(statuses).toEqual([400, 200]);
    const jkt = await calculateJwkThumbprint(await exportJWK((await sdk.dpopKeyPair())!.publicKey), 'sha256');
    const claims = (await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api })).payload;
    expect(claims.cnf).toEqual({ jkt });
    await sdk.clientCredentials({ resource: api, scope: 'read-data' });
    expect(statuses).toEqual([400, 200, 200]);
  });
});
