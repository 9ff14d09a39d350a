// An agent gets a Passport with client credentials, driven by openid-client exactly as an agent
// would, and a resource server verifies it offline (jose + JWKS), introspects it and sees it revoked.
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChainBreak } from '../../src/audit/chain.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { discover } from './support/clients.ts';
import { clientKey, jwtClientYaml, serveJwks, type ClientKey } from './support/keys.ts';

const api = 'https://api.demo.example';

describe('client credentials → Passport', () => {
  let server: TestConsulate;
  let jwtKey: ClientKey;
  let remoteKey: ClientKey;
  let jwksServer: Awaited<ReturnType<typeof serveJwks>>;

  beforeAll(async () => {
    jwtKey = await clientKey('ES256');
    remoteKey = await clientKey('RS256');
    jwksServer = await serveJwks([remoteKey.jwk]);
    server = await startConsulate({
      files: {
        'clients/agent-jwt.yaml': jwtClientYaml('agent-jwt', { jwks: [jwtKey.jwk] }),
        'clients/agent-remote.yaml': jwtClientYaml('agent-remote', { jwksUri: jwksServer.url }),
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await jwksServer?.close();
  });

  const verifyPassport = async (token: string) => {
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    return jwtVerify(token, jwks, { issuer: server.issuer, audience: api, typ: 'at+jwt', algorithms: ['ES256'] });
  };

  it('discovery: both documents name the same issuer and only what is implemented', async () => {
    const oidc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const rfc8414 = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    expect(oidc).toEqual(rfc8414);
    expect(oidc.issuer).toBe(server.issuer);
    expect(oidc.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(oidc.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
    expect(oidc.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    expect(oidc.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
    expect(oidc.authorization_details_types_supported).toEqual(['tool']);
    expect(oidc.device_authorization_endpoint).toBe(`${server.issuer}/device_authorization`);
    expect(oidc.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('the issuer comes from config, never from Host or X-Forwarded-* headers', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`, {
      headers: { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' },
    });
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(server.issuer);
    expect(JSON.stringify(metadata)).not.toContain('evil.example');
  });

  it('client_secret_basic: a Passport per RFC 9068 that verifies against the served JWKS', async () => {
    const config = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const tokens = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(300);
    expect(tokens.scope).toBe('read-data');
    const { payload, protectedHeader } = await verifyPassport(tokens.access_token);
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ iss: server.issuer, sub: 'agent-basic', aud: api, client_id: 'agent-basic', scope: 'read-data' });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.jti).toBe('string');
  });

  it('client_secret_post (scrypt-hashed short secret)', async () => {
    const config = await discover(server, 'agent-post', client.ClientSecretPost(secrets['agent-post']));
    const tokens = await client.clientCredentialsGrant(config, { resource: api });
    const { payload } = await verifyPassport(tokens.access_token);
    expect(payload.sub).toBe('agent-post');
    // No scope asked: the client gets what it may have for the resource.
    expect(payload.scope).toBe('read-data');
  });

  it('private_key_jwt with inline jwks and with jwks_uri', async () => {
    for (const [id, key] of [['agent-jwt', jwtKey], ['agent-remote', remoteKey]] as const) {
      const config = await discover(server, id, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
      const tokens = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' });
      const { payload } = await verifyPassport(tokens.access_token);
      expect(payload.client_id).toBe(id);
    }
    expect(jwksServer.hits()).toBeGreaterThan(0);
  });

  it('a client without a default resource but one allowed resource gets that audience', async () => {
    const config = await discover(server, 'agent-post', client.ClientSecretPost(secrets['agent-post']));
    const tokens = await client.clientCredentialsGrant(config);
    expect((await verifyPassport(tokens.access_token)).payload.aud).toBe(api);
  });

  it('per-resource lifetime: a Passport for reports.example lives 120 s', async () => {
    const config = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const tokens = await client.clientCredentialsGrant(config, { resource: 'https://reports.example', scope: 'reports.read' });
    expect(tokens.expires_in).toBe(120);
  });

  it('authorization_details (RFC 9396) are validated and carried into the Passport and the response', async () => {
    const config = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const details = [{ type: 'tool', tool: 'search', actions: ['call'] }];
    const tokens = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data', authorization_details: JSON.stringify(details) });
    expect(tokens.authorization_details).toEqual(details);
    expect((await verifyPassport(tokens.access_token)).payload.authorization_details).toEqual(details);
  });

  it('introspection: the resource server sees its Passports, another resource server does not', async () => {
    const agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const { access_token } = await client.clientCredentialsGrant(agent, { resource: api, scope: 'read-data write-data' });
    const resourceServer = await discover(server, 'demo-api', client.ClientSecretBasic(secrets['demo-api']));
    const seen = await client.tokenIntrospection(resourceServer, access_token);
    expect(seen).toMatchObject({ active: true, iss: server.issuer, sub: 'agent-basic', aud: api, client_id: 'agent-basic', scope: 'read-data write-data', token_type: 'Bearer' });

    const other = await discover(server, 'reports-api', client.ClientSecretPost(secrets['reports-api']));
    expect(await client.tokenIntrospection(other, access_token)).toEqual({ active: false });
    // The client the token was issued to may introspect it too.
    expect((await client.tokenIntrospection(agent, access_token)).active).toBe(true);
  });

  it('revocation: a revoked Passport introspects inactive, and revoking writes a receipt', async () => {
    const agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const { access_token } = await client.clientCredentialsGrant(agent, { resource: api });
    const resourceServer = await discover(server, 'demo-api', client.ClientSecretBasic(secrets['demo-api']));
    expect((await client.tokenIntrospection(resourceServer, access_token)).active).toBe(true);

    await client.tokenRevocation(agent, access_token);
    expect(await client.tokenIntrospection(resourceServer, access_token)).toEqual({ active: false });
    // Revoking again, or revoking garbage, is not an error (RFC 7009 §2.2).
    await client.tokenRevocation(agent, access_token);
    await client.tokenRevocation(agent, 'not-a-token');

    const jti = (await verifyPassport(access_token)).payload.jti;
    const records = await server.deps.store.audit.list();
    expect(records.filter((r) => r.tokenJti === jti).map((r) => r.event)).toEqual(['passport.issued', 'passport.revoked']);
  });

  it('a client cannot revoke a Passport issued to another client', async () => {
    const agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const { access_token } = await client.clientCredentialsGrant(agent, { resource: api });
    const intruder = await discover(server, 'agent-post', client.ClientSecretPost(secrets['agent-post']));
    await expect(client.tokenRevocation(intruder, access_token)).rejects.toMatchObject({ error: 'unauthorized_client' });
    const resourceServer = await discover(server, 'demo-api', client.ClientSecretBasic(secrets['demo-api']));
    expect((await client.tokenIntrospection(resourceServer, access_token)).active).toBe(true);
  });

  it('every issuance names its receipt, and the audit chain verifies', async () => {
    const agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const { access_token } = await client.clientCredentialsGrant(agent, { resource: api });
    const { payload } = await verifyPassport(access_token);
    const records = await server.deps.store.audit.list();
    const receipt = records.find((r) => r.id === payload.receipt);
    expect(receipt).toMatchObject({ event: 'passport.issued', clientId: 'agent-basic', tokenJti: payload.jti });
    expect(findChainBreak(records)).toBe(-1);
    const tampered = records.map((r) => (r.id === receipt?.id ? { ...r, details: { ...r.details, scope: 'admin-action' } } : r));
    expect(findChainBreak(tampered)).toBe(records.indexOf(receipt!));
  });

  it('token responses are never cached', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`agent-basic:${secrets['agent-basic']}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(decodeProtectedHeader(((await response.json()) as { access_token: string }).access_token).alg).toBe('ES256');
  });
});
