// Two Consulate nodes on one PostgreSQL database, as behind a load balancer: both start together
// (migrations and first keys race), listen on their own ports and announce ONE issuer (node A's
// URL), so Passports, ID tokens, client assertions (aud) and DPoP proofs (htu) name the same
// server whichever node answers. Every test crosses nodes and fails if the shared state does not:
// signing keys (JWKS), revocations, single-use codes, refresh families and reuse detection,
// client-assertion replay, CIBA requests, CLI key rotation, and the DPoP nonce key.
// Clients talk raw HTTP to a chosen node, or openid-client through a "load balancer" fetch that
// sends its requests (addressed to the issuer) to the node the test picks.
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCode } from '../../src/authorize/code.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import type { PersonGrant } from '../../src/grants/person-grant.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { freePort } from './support/browser.ts';
import { consulateCommand } from './support/cli.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, api, personTokens, type Person } from './support/delegation.ts';
import { makeProof, proofKey } from './support/dpop.ts';
import { clientKey, jwtClientYaml, type ClientKey } from './support/keys.ts';

const run = promisify(execFile);
const cibaGrant = 'urn:openid:params:grant-type:ciba';
const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const callback = 'https://app.example.test/callback';
const cibaSecret = 'ciba-app-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const webApp = { authorization: basicAuth('web-app', secrets['web-app']) };
const agent = { authorization: basicAuth('agent-basic', secrets['agent-basic']) };
const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };
const cibaApp = { authorization: basicAuth('ciba-app', cibaSecret) };

const mainYaml = [
  'listen:',
  '  host: 127.0.0.1',
  '  port: 0',
  'passports:',
  '  ttl_seconds: 300',
  'keys:',
  '  reload_seconds: 0.05',
  'log:',
  '  level: info',
  'ciba:',
  '  default_expiry_seconds: 120',
  '  interval_seconds: 1',
  'dpop:',
  '  nonce_endpoints: [token]',
  '',
].join('\n');
const cibaClientYaml = [
  'client_id: ciba-app',
  'token_endpoint_auth_method: client_secret_basic',
  'secret_hash: ${env:CIBA_APP_SECRET_HASH}',
  `grant_types: [${cibaGrant}]`,
  'resources:',
  `  ${api}:`,
  '    scopes: [read-data]',
  '',
].join('\n');

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipPostgres())('two nodes on one PostgreSQL database', () => {
  let a: TestConsulate;
  let b: TestConsulate;
  let issuer: string;
  let databaseUrl: string;
  let jwtKey: ClientKey;
  let ada: Person;

  beforeAll(async () => {
    databaseUrl = await freshPostgresUrl();
    jwtKey = await clientKey('ES256');
    const files = { 'consulate.yaml': mainYaml, 'clients/agent-jwt.yaml': jwtClientYaml('agent-jwt', { jwks: [jwtKey.jwk] }), 'clients/ciba-app.yaml': cibaClientYaml };
    const env = { CONSULATE_DATABASE_URL: databaseUrl, CIBA_APP_SECRET_HASH: hashSecret(cibaSecret) };
    // Node A's port is known in advance so both nodes can start together with its URL as the issuer.
    const [portA, portB] = [await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${portA}`;
    [a, b] = await Promise.all([startConsulate({ files, env, port: portA, issuer }), startConsulate({ files, env, port: portB, issuer })]);
    ada = await addPerson(a, 'ada', { email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace' });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** openid-client behind a load balancer: requests addressed to the issuer go to `node`. */
  async function viaNode(node: () => TestConsulate, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
    const route = (url: string) => url.replace(issuer, node().url);
    const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
      execute: [client.allowInsecureRequests],
      [client.customFetch]: (url: string, init: client.CustomFetchOptions) => fetch(route(url), init as RequestInit),
    });
    config[client.customFetch] = (url, init) => fetch(route(url), init as RequestInit);
    return config;
  }

  const clientCredentials = async (node: TestConsulate, headers: Record<string, string> = agent) => {
    const response = await postForm(node, '/token', { grant_type: 'client_credentials', resource: api }, headers);
    expect(response.status, response.text).toBe(200);
    return response.body.access_token as string;
  };
  const introspect = async (node: TestConsulate, token: string) => (await postForm(node, '/introspect', { token }, demoApi)).body;
  const verifyAt = (node: TestConsulate, token: string) => jwtVerify(token, createRemoteJWKSet(new URL(`${node.url}/jwks`)), { issuer, audience: api, typ: 'at+jwt' });
  const jwks = async (node: TestConsulate) => ((await (await fetch(`${node.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();

  /** A code as /authorize at node A would hand it out (the store is the shared one). */
  async function newCode(overrides: Partial<PersonGrant> = {}) {
    const verifier = b64(32);
    const nonce = b64(16);
    const now = a.deps.now();
    const code = await issueCode(a.deps, {
      sub: ada.sub,
      clientId: 'web-app',
      identityScopes: ['openid', 'email'],
      resource: api,
      resourceScopes: ['read-data'],
      redirectUri: callback,
      codeChallenge: s256(verifier),
      nonce,
      authTime: now - 30,
      acr: 'urn:consulate:acr:mfa',
      amr: ['pwd', 'otp'],
      sid: 'sid-1',
      claims: ada.claims,
      ...overrides,
    });
    return { code, verifier, nonce };
  }
  const codeForm = (issued: { code: string; verifier: string }) => ({ grant_type: 'authorization_code', code: issued.code, redirect_uri: callback, code_verifier: issued.verifier });
  const familyRevoked = async (reason: string) => (await a.deps.store.audit.list({ limit: 10_000 })).filter((e) => e.event === 'family.revoked' && e.details.reason === reason).length;

  it('both nodes started together publish the same keys and announce the one issuer', async () => {
    expect(a.issuer).toBe(issuer);
    expect(b.issuer).toBe(issuer);
    const [kidsA, kidsB] = [await jwks(a), await jwks(b)];
    expect(kidsA).toEqual(kidsB);
    expect(kidsA).toHaveLength(2); // one ES256 and one RS256 key, not one per node
    const metadata = (await (await fetch(`${b.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(issuer);
  });

  it('1. a Passport minted at A verifies and introspects active at B; revoked at B, it is inactive at A', async () => {
    const token = await clientCredentials(a);
    const { payload } = await verifyAt(b, token);
    expect(payload).toMatchObject({ iss: issuer, sub: 'agent-basic', aud: api });
    expect(await introspect(b, token)).toMatchObject({ active: true, iss: issuer, client_id: 'agent-basic' });
    expect((await introspect(a, token)).active).toBe(true);

    expect((await postForm(b, '/revoke', { token }, agent)).status).toBe(200);
    expect(await introspect(a, token)).toEqual({ active: false });
    expect(await introspect(b, token)).toEqual({ active: false });
  });

  it('2. a code issued at A is redeemed at B (openid-client checks the ID token); presented again at A it is invalid_grant and the family dies', async () => {
    const atB = await viaNode(() => b, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    client.enableNonRepudiationChecks(atB); // the ID token's signature checked against B's /jwks
    const issued = await newCode();
    const before = await familyRevoked('code_reused');
    const tokens = await client.authorizationCodeGrant(atB, new URL(`${callback}?code=${encodeURIComponent(issued.code)}&iss=${encodeURIComponent(issuer)}`), { pkceCodeVerifier: issued.verifier, expectedNonce: issued.nonce });
    expect(tokens.claims()).toMatchObject({ iss: issuer, sub: ada.sub, aud: 'web-app', nonce: issued.nonce });
    expect((await introspect(a, tokens.access_token)).active).toBe(true);

    const again = await postForm(a, '/token', codeForm(issued), webApp);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'invalid_grant' });
    // What B handed out dies with the reuse A detected.
    expect(await introspect(b, tokens.access_token)).toEqual({ active: false });
    const refresh = await postForm(b, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string }, webApp);
    expect(refresh.body.error).toBe('invalid_grant');
    expect(await familyRevoked('code_reused')).toBe(before + 1);
  });

  it('3. 20 concurrent redemptions of one code split over both nodes: exactly one 200', async () => {
    const issued = await newCode();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => postForm(i % 2 === 0 ? a : b, '/token', codeForm(issued), webApp)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    // The reuse kills what the winner got, on both nodes.
    const winner = ok[0]?.body as { access_token: string; refresh_token: string };
    expect(await introspect(a, winner.access_token)).toEqual({ active: false });
    expect(await introspect(b, winner.access_token)).toEqual({ active: false });
  });

  it('4. refresh rotated at A, the old token presented at B: refused, and the new one no longer works at A', async () => {
    const first = await postForm(a, '/token', codeForm(await newCode()), webApp);
    expect(first.status).toBe(200);
    const rotated = await postForm(a, '/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, webApp);
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first.body.refresh_token);
    const before = await familyRevoked('refresh_token_reused');

    const reuse = await postForm(b, '/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, webApp);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    const next = await postForm(a, '/token', { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string }, webApp);
    expect(next.status).toBe(400);
    expect(next.body.error).toBe('invalid_grant');
    expect(await introspect(a, rotated.body.access_token as string)).toEqual({ active: false });
    expect(await familyRevoked('refresh_token_reused')).toBe(before + 1);
  });

  it('4b. one refresh token presented 10 times at once over both nodes: exactly one 200', async () => {
    const first = await postForm(a, '/token', codeForm(await newCode()), webApp);
    const form = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string };
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => postForm(i % 2 === 0 ? a : b, '/token', form, webApp)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
  });

  it('5. a private_key_jwt assertion used at A is a replay at B: 401 invalid_client', async () => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: jwtKey.kid })
      .setIssuer('agent-jwt')
      .setSubject('agent-jwt')
      .setAudience(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(jwtKey.privateKey);
    const form = { grant_type: 'client_credentials', resource: api, client_assertion_type: assertionType, client_assertion: assertion };
    expect((await postForm(a, '/token', form)).status).toBe(200);
    const replay = await postForm(b, '/token', form);
    expect({ status: replay.status, error: replay.body.error }).toEqual({ status: 401, error: 'invalid_client' });
    expect(replay.body).not.toHaveProperty('access_token');
    // openid-client's own fresh assertions work at B (aud = the shared issuer).
    const atB = await viaNode(() => b, 'agent-jwt', client.PrivateKeyJwt({ key: jwtKey.privateKey, kid: jwtKey.kid }));
    expect((await client.clientCredentialsGrant(atB, { resource: api })).access_token).toBeTruthy();
  });

  it('6. a CIBA request started at A, approved at B through the approvals API, is collected at A exactly once', async () => {
    const openIds = async () => new Set((await a.deps.store.approvals.listOpen(a.deps.now())).map((r) => r.id));
    const before = await openIds();
    const started = await postForm(a, '/bc-authorize', { scope: 'openid read-data', login_hint: 'ada@example.test', binding_message: 'Order 4711' }, cibaApp);
    expect(started.status, started.text).toBe(200);
    const authReqId = started.body.auth_req_id as string;
    const opened = [...(await openIds())].filter((id) => !before.has(id));
    expect(opened).toHaveLength(1);
    const approvalId = opened[0] as string;
    const poll = (node: TestConsulate) => postForm(node, '/token', { grant_type: cibaGrant, auth_req_id: authReqId }, cibaApp);

    expect((await poll(a)).body.error).toBe('authorization_pending');
    // Ada's Passport for the approvals API is minted at A and used at B.
    const passport = (await personTokens(a, ada, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const decided = await fetch(`${b.url}/approvals/api/${approvalId}`, { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect({ status: decided.status, body: await decided.json() }).toEqual({ status: 200, body: { approval: approvalId, decision: 'approve', outcome: 'approved' } });

    // The client polls A as CIBA Core §7.3 says: every `interval` seconds, 5 s more after a slow_down.
    let interval = started.body.interval as number;
    let collected: Awaited<ReturnType<typeof poll>> | undefined;
    const answers: unknown[] = [];
    for (let i = 0; i < 5 && collected === undefined; i++) {
      await sleep(interval * 1000);
      const answer = await poll(a);
      answers.push(answer.body.error ?? answer.status);
      if (answer.status === 200) collected = answer;
      else if (answer.body.error === 'slow_down') interval += 5;
      else expect(answer.body.error).toBe('authorization_pending');
    }
    expect(collected?.status, JSON.stringify(answers)).toBe(200);
        const { payload } = await verifyAt(b, collected?.body.access_token as string);
    expect(payload).toMatchObject({ sub: ada.sub, approval: approvalId, client_id: 'ciba-app' });

    // Exactly once: the same auth_req_id at either node is refused.
    for (const node of [b, a]) {
      const again = await poll(node);
      expect({ status: again.status, error: again.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    }
  });

  it('6b. an approved CIBA request polled 10 times at once over both nodes: exactly one 200', async () => {
    const before = new Set((await a.deps.store.approvals.listOpen(a.deps.now())).map((r) => r.id));
    const started = await postForm(b, '/bc-authorize', { scope: 'openid read-data', login_hint: 'ada@example.test' }, cibaApp);
    expect(started.status, started.text).toBe(200);
    const approvalId = (await a.deps.store.approvals.listOpen(a.deps.now())).map((r) => r.id).find((id) => !before.has(id)) as string;
    const passport = (await personTokens(b, ada, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const decided = await fetch(`${a.url}/approvals/api/${approvalId}`, { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(decided.status).toBe(200);
    const form = { grant_type: cibaGrant, auth_req_id: started.body.auth_req_id as string };
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => postForm(i % 2 === 0 ? a : b, '/token', form, cibaApp)));
    expect(responses.filter((r) => r.status === 200), JSON.stringify(responses.map((r) => r.body.error ?? r.status))).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) expect(['invalid_grant', 'slow_down']).toContain(r.body.error);
  });

  it('7. a key rotated by the CLI against the database signs at both nodes, and each verifies the other', async () => {
    const oldKid = decodeProtectedHeader(await clientCredentials(a)).kid;
    const { stdout } = await run(...consulateCommand(['keys', 'rotate', '--config', a.configDir, '--database-url', databaseUrl, '--activate-in', '0']), {
      env: { PATH: process.env.PATH, ...fixtureEnv(), CIBA_APP_SECRET_HASH: hashSecret(cibaSecret) },
      timeout: 20_000,
    });
    const newEsKid = /^ES256\s+(\S+)/m.exec(stdout)?.[1];
    expect(newEsKid, stdout).toBeDefined();
    expect(newEsKid).not.toBe(oldKid);

    // Each node re-reads keys every keys.reload_seconds (0.05 s here): poll, bounded.
    const signedWith = async (node: TestConsulate) => {
      for (let i = 0; i < 100; i++) {
        const token = await clientCredentials(node);
        if (decodeProtectedHeader(token).kid === newEsKid) return token;
        await sleep(50);
      }
      throw new Error(`node ${node.url} never signed with ${newEsKid}`);
    };
    const [fromA, fromB] = [await signedWith(a), await signedWith(b)];
    await expect(verifyAt(b, fromA)).resolves.toBeTruthy();
    await expect(verifyAt(a, fromB)).resolves.toBeTruthy();
    expect((await introspect(b, fromA)).active).toBe(true);
    expect((await introspect(a, fromB)).active).toBe(true);
    expect(await jwks(a)).toEqual(await jwks(b));
    expect(await jwks(a)).toContain(oldKid);
  });

  it('8. a DPoP nonce handed out by A is accepted at B', async () => {
    const key = await proofKey('ES256');
    const htu = `${issuer}/token`; // the issuer's URL, whichever node the balancer picks
    const form = { grant_type: 'client_credentials', resource: api };
    const first = await postForm(a, '/token', form, { ...agent, dpop: await makeProof(key, { htu }) });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();

    const atB = await postForm(b, '/token', form, { ...agent, dpop: await makeProof(key, { htu, nonce: nonce as string }) });
    expect(atB.status, atB.text).toBe(200);
    expect(atB.body.token_type).toBe('DPoP');
    expect((await verifyAt(a, atB.body.access_token as string)).payload.cnf).toEqual({ jkt: key.jkt });
  });
});
