// DPoP (RFC 9449) end to end with real clients: openid-client's DPoP handle and oauth4webapi make
// the proofs for client credentials, a PAR + code flow through a stand-in upstream, refresh, token
// exchange and userinfo; the Passports are verified with jose and introspected. Attacks are in
// dpop-attacks.test.ts.
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { startWithOkta, drive, redirectParams } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { accessTokenType, addPerson, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const thumbprint = async (pair: client.CryptoKeyPair) => calculateJwkThumbprint(await exportJWK(pair.publicKey), 'sha256');

const nativeApp = [
  'client_id: native-app',
  'token_endpoint_auth_method: none',
  'grant_types: [authorization_code, refresh_token]',
  'redirect_uris: [http://127.0.0.1/native/callback]',
  'resources:',
  '  https://api.demo.example:',
  '    scopes: [read-data]',
].join('\n');

describe('DPoP with real clients', () => {
  let server: TestConsulate;
  let ada: Person;
  const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };
  const files = {
    'clients/native-app.yaml': nativeApp,
    'clients/dpop-agent.yaml': agentYaml('dpop-agent', 'act_for: { anyone: true }\nsubject_token_clients: [web-app, native-app]\nsubject_token_binding: holder\nmax_chain: 2'),
    'clients/strict-agent.yaml': agentYaml('strict-agent', 'act_for: { anyone: true }\ndpop: required'),
  };
  const env = { [envName('dpop-agent')]: hashSecret(agentSecret('dpop-agent')), [envName('strict-agent')]: hashSecret(agentSecret('strict-agent')) };

  beforeAll(async () => {
    server = await startConsulate({ files, env });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
  });
  afterAll(async () => server?.stop());

  const jwks = () => createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const verify = async (token: string, audience = api): Promise<JWTPayload> => (await jwtVerify(token, jwks(), { issuer: server.issuer, audience, typ: 'at+jwt' })).payload;
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, demoApi)).body;

  it('discovery lists the DPoP algorithms (asymmetric only)', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256']);
  });

  it('openid-client: client credentials with a DPoP handle give a Passport bound to the key (cnf.jkt), token_type DPoP', async () => {
    const config = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256']) {
      const pair = await client.randomDPoPKeyPair(alg);
      const tokens = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' }, { DPoP: client.getDPoPHandle(config, pair) });
      expect(tokens.token_type).toBe('dpop');
      const claims = await verify(tokens.access_token);
      expect(claims.cnf).toEqual({ jkt: await thumbprint(pair) });
      expect(await introspect(tokens.access_token)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await thumbprint(pair) } });
    }
    // Without a handle: a Bearer Passport without cnf, as before.
    const bearer = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' });
    expect(bearer.token_type).toBe('bearer');
    expect((await verify(bearer.access_token)).cnf).toBeUndefined();
  });

  it('oauth4webapi: client credentials with oauth.DPoP, a second independent client', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(server.issuer), await oauth.discoveryRequest(new URL(server.issuer), { [oauth.allowInsecureRequests]: true }));
    const c: oauth.Client = { client_id: 'agent-basic' };
    const pair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(c, pair);
    const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(secrets['agent-basic']), { resource: api, scope: 'read-data write-data' }, { DPoP, [oauth.allowInsecureRequests]: true });
    const tokens = await oauth.processClientCredentialsResponse(as, c, response);
    expect(tokens.token_type).toBe('dpop');
    expect((await verify(tokens.access_token)).cnf).toEqual({ jkt: await thumbprint(pair) });
  });

  it('a public client: code and refresh with openid-client, the refresh token bound to the same key; userinfo with the DPoP scheme', async () => {
    const config = await discover(server, 'native-app', client.None());
    client.enableNonRepudiationChecks(config);
    const pair = await client.randomDPoPKeyPair('ES256');
    const DPoP = client.getDPoPHandle(config, pair);
    // A code as /authorize issues it, redeemed by openid-client with the proof.
    const { issueCode } = await import('../../src/authorize/code.ts');
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const code = await issueCode(server.deps, {
      sub: ada.sub,
      clientId: 'native-app',
      identityScopes: ['openid', 'email'],
      resourceScopes: [],
      nonce,
      redirectUri: 'http://127.0.0.1/native/callback',
      codeChallenge: await client.calculatePKCECodeChallenge(verifier),
      authTime: server.deps.now() - 10,
      sid: 'sid-native',
      claims: ada.claims,
    });
    const callback = new URL(`http://127.0.0.1/native/callback?code=${encodeURIComponent(code)}&iss=${encodeURIComponent(server.issuer)}`);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce }, undefined, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const jkt = await thumbprint(pair);
    expect((await verify(tokens.access_token, server.issuer)).cnf).toEqual({ jkt });

    // Userinfo: openid-client sends the DPoP scheme with a proof carrying ath.
    const info = await client.fetchUserInfo(config, tokens.access_token, ada.sub, { DPoP });
    expect(info).toMatchObject({ sub: ada.sub, email: 'ada@example.test' });

    // Refresh with the same key: a new bound Passport and a new refresh token.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect((await verify(refreshed.access_token, server.issuer)).cnf).toEqual({ jkt });
    // Another key cannot use the (new) refresh token; the right one still can afterwards.
    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP: otherKey })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const again = await client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP });
    expect(again.token_type).toBe('dpop');
  });

  it('token exchange by a DPoP agent binds the new Passport to the agent\'s key; a bound subject token needs its holder', async () => {
    const config = await discover(server, 'dpop-agent', client.ClientSecretBasic(agentSecret('dpop-agent')));
    const agentPair = await client.randomDPoPKeyPair('ES256');
    const person = await personTokens(server, ada);
    const exchanged = await client.genericGrantRequest(config, exchangeGrant, { subject_token: person.access_token, subject_token_type: accessTokenType, scope: 'read-data' }, { DPoP: client.getDPoPHandle(config, agentPair) });
    expect(exchanged.token_type).toBe('dpop');
    const claims = await verify(exchanged.access_token);
    expect(claims).toMatchObject({ sub: ada.sub, act: { sub: 'dpop-agent' }, cnf: { jkt: await thumbprint(agentPair) } });

    // The exchanged Passport is bound: exchanging it again needs the agent's own key (it holds it).
    const hop2 = await client.genericGrantRequest(config, exchangeGrant, { subject_token: exchanged.access_token, subject_token_type: accessTokenType }, { DPoP: client.getDPoPHandle(config, agentPair) });
    expect((await verify(hop2.access_token)).cnf).toEqual({ jkt: await thumbprint(agentPair) });
    const stranger = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await expect(client.genericGrantRequest(config, exchangeGrant, { subject_token: exchanged.access_token, subject_token_type: accessTokenType }, { DPoP: stranger })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    await expect(client.genericGrantRequest(config, exchangeGrant, { subject_token: exchanged.access_token, subject_token_type: accessTokenType })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('an agent whose policy requires DPoP gets nothing as Bearer, and a bound Passport with a proof', async () => {
    const config = await discover(server, 'strict-agent', client.ClientSecretBasic(agentSecret('strict-agent')));
    await expect(client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' })).rejects.toMatchObject({ error: 'invalid_request' });
    const pair = await client.randomDPoPKeyPair('EdDSA');
    const tokens = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' }, { DPoP: client.getDPoPHandle(config, pair) });
    expect((await verify(tokens.access_token)).cnf).toEqual({ jkt: await thumbprint(pair) });
  });
});

describe('DPoP server nonces with real clients', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': 'listen: { host: 127.0.0.1, port: 0 }\ndpop: { nonce_endpoints: [token, introspection] }\n' } });
  });
  afterAll(async () => server?.stop());

  it('openid-client retries with the DPoP-Nonce the server hands out, and keeps using it', async () => {
    const config = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
    const seen: { status: number; nonce: string | null }[] = [];
    config[client.customFetch] = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      if (new URL(url).pathname === '/token') seen.push({ status: response.status, nonce: response.headers.get('dpop-nonce') });
      return response;
    };
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const first = await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' }, { DPoP });
    expect(first.token_type).toBe('dpop');
    // 400 use_dpop_nonce with a nonce, then 200 (also with the nonce).
    expect(seen.map((s) => s.status)).toEqual([400, 200]);
    expect(seen.every((s) => typeof s.nonce === 'string' && s.nonce.length > 10)).toBe(true);
    await client.clientCredentialsGrant(config, { resource: api, scope: 'read-data' }, { DPoP });
    // The nonce was remembered: no second round trip.
    expect(seen.map((s) => s.status)).toEqual([400, 200, 200]);
  });
});

describe('DPoP through PAR and the browser flow', () => {
  let server: TestConsulate;
  let stop: () => Promise<void>;
  let okta: Awaited<ReturnType<typeof startWithOkta>>['okta'];
  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta());
  });
  afterAll(async () => stop?.());

  it('a DPoP proof at PAR binds the code: only that key redeems it', async () => {
    const discovered = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as client.ServerMetadata;
    const config = new client.Configuration(discovered, 'web-app', undefined, client.ClientSecretBasic(secrets['web-app']));
    client.allowInsecureRequests(config);
    const pair = await client.randomDPoPKeyPair('ES256');
    const DPoP = client.getDPoPHandle(config, pair);
    const verifier = client.randomPKCECodeVerifier();
    const redirectUri = 'http://127.0.0.1/callback';
    const start = async () =>
      client.buildAuthorizationUrlWithPAR(
        config,
        { redirect_uri: redirectUri, scope: 'openid read-data', resource: api, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's1' },
        { DPoP },
      );
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, await start(), { username: 'alice@example.com' });
    const params = redirectParams(outcome, redirectUri);
    const callback = new URL(`${redirectUri}?${params.toString()}`);

    // Another key: refused (and, like any failed redemption by its own client, the code is spent).
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's1' }, undefined, { DPoP: other })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });

    // A second login with the right key works end to end.
    const outcome2 = await drive(server, okta, jar, await start(), { username: 'alice@example.com' });
    const callback2 = new URL(`${redirectUri}?${redirectParams(outcome2, redirectUri).toString()}`);
    const tokens = await client.authorizationCodeGrant(config, callback2, { pkceCodeVerifier: verifier, expectedState: 's1' }, undefined, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api });
    expect(payload.cnf).toEqual({ jkt: await thumbprint(pair) });
  });
});
