// The guard (src/sdk/) in front of the demo API, accepting real Passports from a started Consulate:
// agents get them with openid-client (client_credentials, plain and DPoP-bound) and call the API
// as a client would; forged, stale and misdirected tokens, raw headers and proofs are made by hand.
// Introspection mode is checked against Consulate's /introspect and /revoke; opaque DPoP-bound
// tokens against a small stand-in introspection endpoint (Consulate issues no opaque Passports).
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoApi, type DemoApi } from '../../src/demo/demo-api.ts';
import { dpopAlgorithms } from '../../src/dpop/proof.ts';
import { createPassportGuard, type GuardFailure, type GuardResult, type PassportGuardOptions } from '../../src/sdk/index.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { addPerson, personTokens } from './support/delegation.ts';
import { clientKey, serveJwks } from './support/keys.ts';

const api = 'https://api.demo.example';
// The guard offers exactly the proof algorithms the shared validator accepts.
const algs = dpopAlgorithms.join(' ');
const agentAuth = { authorization: basicAuth('agent-basic', secrets['agent-basic']) };
const nowSeconds = () => Math.floor(Date.now() / 1000);
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

type Key = client.CryptoKeyPair & { jkt: string };
const newKey = async (): Promise<Key> => {
  const pair = await client.randomDPoPKeyPair('ES256');
  return { ...pair, jkt: await calculateJwkThumbprint(await exportJWK(pair.publicKey), 'sha256') };
};
/** A DPoP proof made by hand, for the requests a real client would never send. */
async function proof(key: Key, method: string, url: string, token?: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: method, htu: url, iat: nowSeconds(), ...(token ? { ath: ath(token) } : {}), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
    .sign(key.privateKey);
}

/** A request with headers fetch would not let us set (Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const refused = (result: GuardResult): GuardFailure => {
  if (result.ok) throw new Error('expected a refusal');
  return result;
};

describe('the Passport guard with Consulate and the demo API', () => {
  let server: TestConsulate;
  let demo: DemoApi;
  let agent: client.Configuration;

  beforeAll(async () => {
    server = await startConsulate();
    demo = await startDemoApi({ issuer: server.issuer, resource: api });
    agent = await discover(server, 'agent-basic', client.ClientSecretBasic(secrets['agent-basic']));
  });
  afterAll(async () => {
    await demo?.close();
    await server?.stop();
  });

  /** A Passport for agent-basic, from Consulate's token endpoint. */
  const passport = async (form: Record<string, string> = {}): Promise<string> => {
    const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data', ...form }, agentAuth);
    if (response.status !== 200) throw new Error(`token: ${response.text}`);
    return response.body.access_token as string;
  };
  const guardFor = (options: Partial<PassportGuardOptions> = {}) => createPassportGuard({ issuer: server.issuer, resource: api, ...options });
  const get = (guard: ReturnType<typeof guardFor>, token: string, scheme = 'Bearer', headers: Record<string, string> = {}) =>
    guard.verify({ method: 'GET', url: `${demo.url}/data`, headers: { authorization: `${scheme} ${token}`, ...headers } });
  /** The demo API through openid-client: refusals come back as parsed WWW-Authenticate challenges. */
  const fetchData = async (token: string, options?: { DPoP?: client.DPoPHandle }, url = `${demo.url}/data`, method = 'GET') => {
    try {
      const response = await client.fetchProtectedResource(agent, token, new URL(url), method, undefined, undefined, options);
      return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
    } catch (error) {
      if (!(error instanceof client.WWWAuthenticateChallengeError)) throw error;
      return { status: error.status, challenges: error.cause, body: (await error.response.json()) as Record<string, unknown>, headers: error.response.headers };
    }
  };

  describe('JWT Passports', () => {
    it('serves RFC 9728 metadata naming Consulate', async () => {
      const response = await fetch(demo.metadataUrl);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        resource: api,
        authorization_servers: [server.issuer],
        scopes_supported: ['read-data', 'write-data'],
        bearer_methods_supported: ['header'],
        authorization_details_types_supported: ['tool'],
        dpop_signing_alg_values_supported: algs.split(' '),
        dpop_bound_access_tokens_required: false,
        resource_name: 'Demo API',
      });
    });

    it('a valid Bearer Passport from openid-client: the handler sees who called', async () => {
      const tokens = await client.clientCredentialsGrant(agent, { resource: api, scope: 'read-data' });
      const answer = await fetchData(tokens.access_token);
      expect(answer.status).toBe(200);
      expect(answer.body.caller).toEqual({ sub: 'agent-basic', client_id: 'agent-basic', azp: 'agent-basic', scope: 'read-data' });
      expect(answer.headers.get('dpop-nonce')).toBeNull();
    });

    it('no token: 401 with both challenges, resource_metadata, and no error code (RFC 6750 §3.1)', async () => {
      for (const headers of [{}, { authorization: 'Basic YTpi' }] as Record<string, string>[]) {
        const response = await fetch(`${demo.url}/data`, { headers });
        expect(response.status).toBe(401);
        const metadata = `resource_metadata="${demo.metadataUrl}"`;
        expect(response.headers.get('www-authenticate')).toBe(`Bearer ${metadata}, DPoP algs="${algs}", ${metadata}`);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(await response.json()).toEqual({ error_description: 'An access token is required' });
      }
      const withRealm = refused(await guardFor({ realm: 'demo' }).verify({ method: 'GET', url: `${demo.url}/data`, headers: {} }));
      expect(withRealm).toMatchObject({ status: 401, reason: 'no_credentials', headers: { 'WWW-Authenticate': `Bearer realm="demo", DPoP realm="demo", algs="${algs}"` } });
      expect(withRealm.error).toBeUndefined();
    });

    it('a malformed Authorization header: 400 invalid_request', async () => {
      for (const authorization of ['Bearer', 'Bearer a b', 'Bearer a, Bearer b', 'DPoP {x}']) {
        const response = await fetch(`${demo.url}/data`, { headers: { authorization } });
        expect(response.status).toBe(400);
        expect(((await response.json()) as Record<string, unknown>).error).toBe('invalid_request');
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
      }
    });

    it('expired: refused once exp is further back than the clock skew (30 s)', async () => {
      const token = await passport();
      const { exp } = decodeJwt(token) as { exp: number };
      expect((await get(guardFor({ now: () => exp + 29 }), token)).ok).toBe(true);
      const result = refused(await get(guardFor({ now: () => exp + 30 }), token));
      expect(result).toMatchObject({ status: 401, error: 'invalid_token', reason: 'expired', errorDescription: 'The access token is invalid' });
    });

    it('a Passport for another resource (aud), or from another issuer (iss)', async () => {
      const reports = await passport({ resource: 'https://reports.example', scope: 'reports.read' });
      expect(refused(await get(guardFor(), reports))).toMatchObject({ status: 401, error: 'invalid_token', reason: 'wrong_audience' });
      const elsewhere = guardFor({ issuer: 'https://elsewhere.example', jwksUri: `${server.issuer}/jwks` });
      expect(refused(await get(elsewhere, await passport()))).toMatchObject({ status: 401, error: 'invalid_token', reason: 'wrong_issuer' });
    });

    it('tampered, alg none, HS256 with the public key, a key Consulate does not publish', async () => {
      const token = await passport();
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const claims = decodeJwt(token);
      const widened = b64({ ...claims, scope: 'read-data write-data' });
      const none = b64({ alg: 'none', typ: 'at+jwt' });
      const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Record<string, string>[] };
      const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwks.keys[0]?.kid }).sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
      const own = await generateKeyPair('ES256');
      const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-published' }).sign(own.privateKey);
      const cases: [string, string][] = [
        [`${header}.${widened}.${signature}`, 'bad_signature'],
        [`${none}.${payload}.`, 'malformed_token'],
        [`${none}.${payload}.${signature}`, 'alg_not_allowed'],
        [hs256, 'alg_not_allowed'],
        [foreign, 'unknown_key'],
      ];
      for (const [forged, reason] of cases) {
        expect(refused(await get(demo.guard, forged))).toMatchObject({ status: 401, error: 'invalid_token', reason });
        const answer = await fetchData(forged);
        expect(answer.status).toBe(401);
        expect(answer.challenges?.[0]).toEqual({ scheme: 'bearer', parameters: { error: 'invalid_token', error_description: 'The access token is invalid', resource_metadata: demo.metadataUrl } });
        expect(answer.challenges?.[1]).toEqual({ scheme: 'dpop', parameters: { algs, resource_metadata: demo.metadataUrl } });
        expect(JSON.stringify(answer.body)).not.toContain(payload);
      }
    });

    it('a token of another type: an ID token signed by Consulate is not a Passport (typ)', async () => {
      const person = await addPerson(server, 'ada', { email: 'ada@example.test' });
      const { id_token: idToken } = await personTokens(server, person);
      expect(refused(await get(guardFor(), idToken))).toMatchObject({ status: 401, error: 'invalid_token', reason: 'wrong_type' });
      const forApi = guardFor({ resource: 'web-app' });
      expect(refused(await get(forApi, idToken))).toMatchObject({ reason: 'wrong_type' });
    });

    it('insufficient scope: 403 naming the scope needed; with it, the write goes through', async () => {
      const reader = await passport();
      const denied = await fetch(`${demo.url}/data`, { method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' }, body: '{"text":"hello"}' });
      expect(denied.status).toBe(403);
      expect(denied.headers.get('www-authenticate')).toBe(
        `Bearer error="insufficient_scope", error_description="The access token does not grant the scope this request needs", scope="write-data", resource_metadata="${demo.metadataUrl}", DPoP algs="${algs}", resource_metadata="${demo.metadataUrl}"`,
      );
      expect(await denied.json()).toEqual({ error: 'insufficient_scope', error_description: 'The access token does not grant the scope this request needs' });

      const writer = await passport({ scope: 'write-data' });
      const stored = await fetch(`${demo.url}/data`, { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, body: '{"text":"hello"}' });
      expect(stored.status).toBe(201);
      expect(await stored.json()).toMatchObject({ stored: 'hello', caller: { sub: 'agent-basic', scope: 'write-data' } });
      const read = await fetchData(reader);
      expect(read.body.notes).toContainEqual({ text: 'hello', by: 'agent-basic' });
    });

    it('authorization details: the tool, its action, and locations naming this resource', async () => {
      const withDetails = (detail: Record<string, unknown>) => passport({ scope: '', authorization_details: JSON.stringify([{ type: 'tool', ...detail }]) });
      const call = async (token: string) => fetch(`${demo.url}/tools/echo`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: 'ping' });
      const ok = await call(await withDetails({ tool: 'echo', actions: ['call'] }));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ echo: 'ping', caller: { sub: 'agent-basic' } });
      expect((await call(await withDetails({ tool: 'echo', actions: ['call'], locations: [api] }))).status).toBe(200);
      for (const detail of [{ tool: 'echo', actions: ['read'] }, { tool: 'other', actions: ['call'] }, { tool: 'echo', actions: ['call'], locations: ['https://elsewhere.example'] }]) {
        const denied = await call(await withDetails(detail));
        expect(denied.status).toBe(403);
        expect(await denied.json()).toMatchObject({ error: 'insufficient_scope' });
      }
    });

    it('metadata and keys are fetched once, then served from memory', async () => {
      const fetched: string[] = [];
      const counting: typeof fetch = (input, init) => {
        fetched.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      };
      const guard = guardFor({ fetch: counting });
      const token = await passport();
      expect((await get(guard, token)).ok).toBe(true);
      expect((await get(guard, token)).ok).toBe(true);
      expect(fetched).toEqual([`${server.issuer}/.well-known/oauth-authorization-server`, `${server.issuer}/jwks`]);
    });
  });

  describe('introspection mode', () => {
    it('a revoked Passport: introspection says so within cacheSeconds; JWT mode still accepts it (the trade-off)', async () => {
      let now = nowSeconds();
      let introspections = 0;
      const counting: typeof fetch = (input, init) => {
        if (String(input).endsWith('/introspect')) introspections += 1;
        return fetch(input, init);
      };
      const introspecting = guardFor({ now: () => now, fetch: counting, introspection: { clientId: 'demo-api', clientSecret: secrets['demo-api'], cacheSeconds: 10, always: true } });
      const token = await passport();
      expect(await get(introspecting, token)).toMatchObject({ ok: true, passport: { sub: 'agent-basic', aud: api } });
      expect(introspections).toBe(1);

      const revoked = await postForm(server, '/revoke', { token }, agentAuth);
      expect(revoked.status).toBe(200);
      // Within the cache time the last answer stands, without asking again.
      expect((await get(introspecting, token)).ok).toBe(true);
      expect(introspections).toBe(1);
      now += 11;
      expect(refused(await get(introspecting, token))).toMatchObject({ status: 401, error: 'invalid_token', reason: 'inactive' });
      expect(introspections).toBe(2);
      // Offline verification cannot know: the signature, audience and expiry are still fine.
      expect((await get(demo.guard, token)).ok).toBe(true);
    });

    it('opaque tokens: refused without introspection, asked about with it', async () => {
      expect(refused(await get(guardFor(), 'an-opaque-token'))).toMatchObject({ status: 401, reason: 'opaque_not_accepted' });
      const introspecting = guardFor({ introspection: { clientId: 'demo-api', clientSecret: secrets['demo-api'] } });
      expect(refused(await get(introspecting, 'an-opaque-token'))).toMatchObject({ status: 401, error: 'invalid_token', reason: 'inactive' });
    });

    it('introspection that cannot be done fails closed with 503, not 401', async () => {
      const wrongSecret = guardFor({ introspection: { clientId: 'demo-api', clientSecret: 'wrong', always: true } });
      const result = refused(await get(wrongSecret, await passport()));
      expect(result).toMatchObject({ status: 503, error: 'temporarily_unavailable', reason: 'unavailable' });
      expect(result.headers['WWW-Authenticate']).toBeUndefined();
    });
  });

  describe('DPoP-bound Passports', () => {
    let key: Key;
    let handle: client.DPoPHandle;
    let bound: string;

    beforeAll(async () => {
      key = await newKey();
      handle = client.getDPoPHandle(agent, key);
      const tokens = await client.clientCredentialsGrant(agent, { resource: api, scope: 'read-data' }, { DPoP: handle });
      expect(tokens.token_type).toBe('dpop');
      bound = tokens.access_token;
    });

    it('Consulate binds the Passport to the key; a real DPoP client calls the API with it', async () => {
      expect(decodeJwt(bound).cnf).toEqual({ jkt: key.jkt });
      const answer = await fetchData(bound, { DPoP: handle });
      expect(answer.status).toBe(200);
      expect(answer.body.caller).toMatchObject({ sub: 'agent-basic', dpop_jkt: key.jkt });
    });

    it('sent as Bearer: 401 invalid_token in a DPoP challenge', async () => {
      const answer = await fetchData(bound);
      expect(answer.status).toBe(401);
      expect(answer.challenges?.[0]).toEqual({
        scheme: 'dpop',
        parameters: { error: 'invalid_token', error_description: 'This access token must be sent with the DPoP scheme and a DPoP proof', algs, resource_metadata: demo.metadataUrl },
      });
    });

    it('proofs that do not hold: none, another key, another URL or method, another token, replayed', async () => {
      const url = `${demo.url}/data`;
      const other = await newKey();
      const reasonOf = async (proofs: string[]) => {
        const result = await demo.guard.verify({ method: 'GET', url, headers: { authorization: `DPoP ${bound}`, ...(proofs.length ? { dpop: proofs } : {}) } });
        return result.ok ? 'ok' : `${result.status} ${result.error} ${result.reason}`;
      };
      expect(await reasonOf([])).toBe('401 invalid_dpop_proof proof_multiple_proofs');
      expect(await reasonOf([await proof(other, 'GET', url, bound)])).toBe('401 invalid_token key_mismatch');
      expect(await reasonOf([await proof(key, 'GET', `${demo.url}/tools/echo`, bound)])).toBe('401 invalid_dpop_proof proof_htu_mismatch');
      expect(await reasonOf([await proof(key, 'POST', url, bound)])).toBe('401 invalid_dpop_proof proof_htm_mismatch');
      expect(await reasonOf([await proof(key, 'GET', url, 'another-token')])).toBe('401 invalid_dpop_proof proof_ath_mismatch');
      expect(await reasonOf([await proof(key, 'GET', url, bound, { iat: nowSeconds() - 120 })])).toBe('401 invalid_dpop_proof proof_iat_out_of_window');
      const once = await proof(key, 'GET', url, bound);
      expect(await reasonOf([once])).toBe('ok');
      expect(await reasonOf([once])).toBe('401 invalid_dpop_proof proof_replay');
      // The query string is not part of htu.
      const withQuery = await demo.guard.verify({ method: 'GET', url: `${url}?page=2`, headers: { authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', url, bound) } });
      expect(withQuery.ok).toBe(true);
    });

    it('an unbound Passport sent with the DPoP scheme is refused', async () => {
      const plain = await passport();
      const result = await demo.guard.verify({ method: 'GET', url: `${demo.url}/data`, headers: { authorization: `DPoP ${plain}`, dpop: await proof(key, 'GET', `${demo.url}/data`, plain) } });
      expect(refused(result)).toMatchObject({ status: 401, error: 'invalid_token', reason: 'unbound_token_as_dpop' });
    });

    it('htu is the configured URL: a Host header cannot move it', async () => {
      const evil = 'http://evil.example/data';
      const spoofed = await rawGet(`${demo.url}/data`, { host: 'evil.example', authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', evil, bound) });
      expect(spoofed.status).toBe(401);
      expect(JSON.parse(spoofed.body)).toEqual({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof is invalid' });
      const honest = await rawGet(`${demo.url}/data`, { host: 'evil.example', authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', `${demo.url}/data`, bound) });
      expect(honest.status).toBe(200);
    });

    it('in introspection mode the binding still holds', async () => {
      const introspecting = guardFor({ introspection: { clientId: 'demo-api', clientSecret: secrets['demo-api'], always: true } });
      expect(refused(await get(introspecting, bound))).toMatchObject({ status: 401, reason: 'bound_token_as_bearer' });
      const ok = await get(introspecting, bound, 'DPoP', { dpop: await proof(key, 'GET', `${demo.url}/data`, bound) });
      expect(ok).toMatchObject({ ok: true, token: 'DPoP', dpop: { jkt: key.jkt } });
    });

    describe('an API that requires DPoP and its own nonces', () => {
      let strict: DemoApi;
      beforeAll(async () => {
        strict = await startDemoApi({ issuer: server.issuer, resource: api, dpop: { required: true, nonce: { secret: 'nonce-secret-for-the-demo-api-0123', windowSeconds: 60 } } });
      });
      afterAll(async () => strict?.close());

      it('says so in its metadata, and refuses Bearer Passports with a DPoP challenge only', async () => {
        expect(await (await fetch(strict.metadataUrl)).json()).toMatchObject({ dpop_bound_access_tokens_required: true });
        const response = await fetch(`${strict.url}/data`, { headers: { authorization: `Bearer ${await passport()}` } });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe(
          `DPoP error="invalid_token", error_description="This resource accepts DPoP-bound access tokens only", algs="${algs}", resource_metadata="${strict.metadataUrl}"`,
        );
      });

      it('use_dpop_nonce with a DPoP-Nonce, then the proof with it passes and the answer carries the next nonce', async () => {
        const url = `${strict.url}/data`;
        const first = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', url, bound) } });
        expect(first.status).toBe(401);
        expect(first.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="/);
        const nonce = first.headers.get('dpop-nonce');
        expect(nonce).toEqual(expect.any(String));
        const second = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', url, bound, { nonce }) } });
        expect(second.status).toBe(200);
        expect(second.headers.get('dpop-nonce')).toEqual(expect.any(String));
        const forged = await fetch(url, { headers: { authorization: `DPoP ${bound}`, dpop: await proof(key, 'GET', url, bound, { nonce: `${nonce}x` }) } });
        expect(forged.status).toBe(401);
      });

      it('a real DPoP client retries with the nonce by itself', async () => {
        const answer = await fetchData(bound, { DPoP: handle }, `${strict.url}/data`);
        expect(answer.status).toBe(200);
        expect(answer.body.caller).toMatchObject({ dpop_jkt: key.jkt });
      });
    });
  });

  describe('RFC 9068 details Consulate does not exercise (a stand-in issuer key)', () => {
    const issuer = 'https://issuer.example.test';
    it('typ application/at+jwt and RS256 are accepted; nbf ahead, a missing RFC 9068 claim, and ES384 (not allowed by default) are not', async () => {
      const [rs, es384] = [await clientKey('RS256', 'rs'), await generateKeyPair('ES384')];
      const jwks = await serveJwks([rs.jwk, { ...(await exportJWK(es384.publicKey)), kid: 'es384', alg: 'ES384' }]);
      try {
        const guard = createPassportGuard({ issuer, resource: api, jwksUri: jwks.url });
        const now = nowSeconds();
        const claims = { iss: issuer, sub: 'svc', aud: api, client_id: 'svc', scope: 'read-data', jti: randomUUID(), iat: now, exp: now + 60 };
        const sign = (payload: Record<string, unknown>, typ = 'application/at+jwt') => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rs', typ }).sign(rs.privateKey);
        expect(await get(guard, await sign(claims))).toMatchObject({ ok: true, passport: { sub: 'svc' } });
        expect(refused(await get(guard, await sign(claims, 'JWT')))).toMatchObject({ status: 401, reason: 'wrong_type' });
        expect(refused(await get(guard, await sign({ ...claims, nbf: now + 120 })))).toMatchObject({ status: 401, reason: 'not_yet_valid' });
        const { client_id: _clientId, ...withoutClientId } = claims;
        expect(refused(await get(guard, await sign(withoutClientId)))).toMatchObject({ status: 401, reason: 'missing_claims' });
        const es = await new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: 'es384', typ: 'at+jwt' }).sign(es384.privateKey);
        expect(refused(await get(guard, es))).toMatchObject({ status: 401, reason: 'alg_not_allowed' });
        expect((await get(createPassportGuard({ issuer, resource: api, jwksUri: jwks.url, algorithms: ['ES384'] }), es)).ok).toBe(true);
      } finally {
        await jwks.close();
      }
    });
  });

  describe('opaque DPoP-bound tokens through introspection (stand-in endpoint)', () => {
    let standIn: Server;
    let endpoint: string;
    let key: Key;
    const answers = new Map<string, Record<string, unknown>>();

    beforeAll(async () => {
      key = await newKey();
      const exp = nowSeconds() + 300;
      answers.set('opaque-bound', { active: true, iss: server.issuer, sub: 'svc-1', aud: api, scope: 'read-data', cnf: { jkt: key.jkt }, exp, token_type: 'DPoP' });
      answers.set('opaque-other-aud', { active: true, iss: server.issuer, sub: 'svc-1', aud: 'https://reports.example', scope: 'read-data', exp });
      answers.set('opaque-other-iss', { active: true, iss: 'https://elsewhere.example', sub: 'svc-1', aud: api, scope: 'read-data', exp });
      standIn = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const authorized = req.headers.authorization === basicAuth('rs-client', 'rs secret');
          const token = new URLSearchParams(body).get('token') ?? '';
          res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' });
          res.end(JSON.stringify(authorized ? (answers.get(token) ?? { active: false }) : { error: 'invalid_client' }));
        });
      });
      await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}/introspect`;
    });
    afterAll(async () => new Promise<void>((resolve) => standIn.close(() => resolve())));

    it('the introspected cnf binds the token; aud and iss are checked as for a JWT', async () => {
      const guard = guardFor({ introspection: { endpoint, clientId: 'rs-client', clientSecret: 'rs secret' } });
      const url = `${demo.url}/data`;
      expect(refused(await get(guard, 'opaque-bound'))).toMatchObject({ status: 401, reason: 'bound_token_as_bearer' });
      const ok = await guard.verify({ method: 'GET', url, headers: { authorization: 'DPoP opaque-bound', dpop: await proof(key, 'GET', url, 'opaque-bound') } });
      expect(ok).toMatchObject({ ok: true, passport: { sub: 'svc-1', cnf: { jkt: key.jkt } }, dpop: { jkt: key.jkt } });
      const other = await newKey();
      const stolen = await guard.verify({ method: 'GET', url, headers: { authorization: 'DPoP opaque-bound', dpop: await proof(other, 'GET', url, 'opaque-bound') } });
      expect(refused(stolen)).toMatchObject({ status: 401, error: 'invalid_token', reason: 'key_mismatch' });
      expect(refused(await get(guard, 'opaque-other-aud'))).toMatchObject({ status: 401, reason: 'wrong_audience' });
      expect(refused(await get(guard, 'opaque-other-iss'))).toMatchObject({ status: 401, reason: 'wrong_issuer' });
      expect(refused(await get(guard, 'opaque-unknown'))).toMatchObject({ status: 401, reason: 'inactive' });
    });
  });
});
