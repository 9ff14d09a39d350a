// DPoP (RFC 9449) attacks against a real server: proofs made by hand (support/dpop.ts) and sent raw,
// the requests no real client would make. At the token endpoint: other keys, replays (also across a
// restart), other URLs and methods, old and future iat, none/HS256/private keys, two proofs, junk.
// Server nonces on a clock the test moves. Bound Passports at userinfo, bound refresh tokens and
// codes, PAR, token exchange of bound subject tokens, the policies that demand DPoP, introspection.
// Every refusal: the error on the wire, nothing issued (no token, no receipt), no stack trace, and
// the check that caught it in the server's log. The happy paths with real clients: dpop.test.ts.
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { decodeJwt, exportJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCode } from '../../src/authorize/code.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import type { PersonGrant } from '../../src/grants/person-grant.ts';
import { basicAuth, postForm, testClock } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, type Person } from './support/delegation.ts';
import { makeProof, proofKey, unsignedProof, type ProofKey } from './support/dpop.ts';

type Answer = Awaited<ReturnType<typeof postForm>>;
type Claims = Record<string, unknown> & { cnf?: { jkt?: string }; aud?: unknown; act?: unknown };

const agentBasic = { authorization: basicAuth('agent-basic', secrets['agent-basic']) };
const webApp = { authorization: basicAuth('web-app', secrets['web-app']) };
const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };
const ccForm = { grant_type: 'client_credentials', resource: api, scope: 'read-data' };
const webCallback = 'https://app.example.test/callback';
const spaCallback = 'http://127.0.0.1/dpop-spa/callback';
const boundApi = 'https://bound.example';
const genericRefusal = { error: 'invalid_dpop_proof', error_description: 'the DPoP proof is invalid' };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const claimsOf = (token: unknown): Claims => decodeJwt(String(token)) as Claims;
const dpopHeader = (proof: string | undefined): Record<string, string> => (proof === undefined ? {} : { dpop: proof });
const issuedEvents = new Set(['passport.issued', 'passport.exchanged', 'id_jag.issued']);

async function lastSeq(server: TestConsulate): Promise<number> {
  let seq = 0;
  for (;;) {
    const page = await server.deps.store.audit.list({ afterSeq: seq, limit: 1000 });
    if (page.length === 0) return seq;
    seq = page[page.length - 1]!.seq;
  }
}

/** Sends one request and collects what it left behind: audit records, and the reasons of refusals in the log. */
async function observe(server: TestConsulate, send: () => Promise<Answer>) {
  const seq = await lastSeq(server);
  const logIndex = server.logs.length;
  const answer = await send();
  const records = await server.deps.store.audit.list({ afterSeq: seq, limit: 1000 });
  const reasons = server.logs.slice(logIndex).filter((line) => line.msg === 'request refused').map((line) => line.reason);
  return { answer, records, reasons };
}

/** A refusal: the error on the wire, nothing issued, no receipt of an issuance, no stack, and `reason` in the log. */
async function refused(server: TestConsulate, send: () => Promise<Answer>, expected: { reason: string; error?: string; status?: number }): Promise<Answer> {
  const { answer, records, reasons } = await observe(server, send);
  expect(answer.status, answer.text).toBe(expected.status ?? 400);
  expect(answer.body.error, answer.text).toBe(expected.error ?? 'invalid_dpop_proof');
  expect(answer.body.access_token).toBeUndefined();
  expect(answer.body.refresh_token).toBeUndefined();
  expect(answer.body.request_uri).toBeUndefined();
  expect(answer.text).not.toMatch(/eyJ/); // no JWT of any kind in the answer
  expect(answer.text).not.toMatch(/at .*\.ts|stack/i);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(records.filter((record) => issuedEvents.has(record.event))).toEqual([]);
  expect(reasons).toEqual([expected.reason]);
  return answer;
}

/** A 200 from the token endpoint with a Passport bound to `key`. */
function expectBound(answer: Answer, key: ProofKey): Claims {
  expect(answer.status, answer.text).toBe(200);
  expect(answer.body.token_type).toBe('DPoP');
  const claims = claimsOf(answer.body.access_token);
  expect(claims.cnf).toEqual({ jkt: key.jkt });
  return claims;
}

async function fetchAnswer(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body, text };
}

const publicClient = [
  'client_id: dpop-spa',
  'token_endpoint_auth_method: none',
  'grant_types: [authorization_code, refresh_token]',
  `redirect_uris: [${spaCallback}]`,
  'resources:',
  `  ${api}:`,
  '    scopes: [read-data]',
  '',
].join('\n');

const boundResource = [`resource: ${boundApi}`, 'name: Bound API', 'scopes:', '  read: Read', 'dpop_bound_access_tokens_required: true', ''].join('\n');

const agents: Record<string, string> = {
  // Exchanges the web app's (bound) Passports; must be their holder.
  'te-holder': agentYaml('te-holder', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]'),
  // Is handed bound Passports on purpose: exchanges them with its own key.
  'te-any': agentYaml('te-any', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]\nsubject_token_binding: any'),
  'te-strict': agentYaml('te-strict', 'act_for: { anyone: true }\ndpop: required'),
  'te-bound': agentYaml('te-bound', 'act_for: { anyone: true }', undefined, 'dpop_bound_access_tokens: true'),
  'te-res': agentYaml('te-res', 'act_for: { anyone: true }', `  ${boundApi}:\n    scopes: [read]`),
};

describe('DPoP attacks', () => {
  let server: TestConsulate;
  let ada: Person;
  let holder: ProofKey;
  let other: ProofKey;

  beforeAll(async () => {
    const files: Record<string, string> = { 'clients/dpop-spa.yaml': publicClient, 'resources/bound-api.yaml': boundResource };
    for (const [id, yaml] of Object.entries(agents)) files[`clients/${id}.yaml`] = yaml;
    const env = Object.fromEntries(Object.keys(agents).map((id) => [envName(id), hashSecret(agentSecret(id))]));
    server = await startConsulate({ files, env });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace', groups: ['eng'] });
    holder = await proofKey('ES256');
    other = await proofKey('ES256');
  });
  afterAll(async () => server?.stop());

  const tokenUrl = () => `${server.issuer}/token`;
  const tokenProof = (key: ProofKey, options: Partial<Parameters<typeof makeProof>[1]> = {}) => makeProof(key, { htu: tokenUrl(), ...options });
  const cc = (proof?: string, form: Record<string, string> = ccForm, headers: Record<string, string> = agentBasic) => postForm(server, '/token', form, { ...headers, ...dpopHeader(proof) });

  /** A code as /authorize would issue it (web-app by default), and the verifier the client kept. */
  async function newCode(overrides: Partial<PersonGrant> = {}) {
    const verifier = randomBytes(32).toString('base64url');
    const grant: PersonGrant = {
      sub: ada.sub,
      clientId: 'web-app',
      identityScopes: ['openid', 'email'],
      resource: api,
      resourceScopes: ['read-data'],
      redirectUri: webCallback,
      codeChallenge: s256(verifier),
      authTime: server.deps.now() - 30,
      acr: 'urn:consulate:acr:mfa',
      amr: ['pwd', 'otp'],
      sid: 'sid-dpop',
      claims: ada.claims,
      ...overrides,
    };
    return { code: await issueCode(server.deps, grant), verifier, grant };
  }

  /** Redeems like personTokens in support/delegation.ts, plus a DPoP header; a public client names itself. */
  function redeem(issued: Awaited<ReturnType<typeof newCode>>, proof?: string): Promise<Answer> {
    const isPublic = issued.grant.clientId === 'dpop-spa';
    const form = { grant_type: 'authorization_code', code: issued.code, redirect_uri: issued.grant.redirectUri, code_verifier: issued.verifier, ...(isPublic ? { client_id: 'dpop-spa' } : {}) };
    return postForm(server, '/token', form, { ...(isPublic ? {} : webApp), ...dpopHeader(proof) });
  }

  describe('proofs at the token endpoint (client_credentials, agent-basic)', () => {
    it('a valid proof binds the Passport (the baseline the attacks below depart from)', async () => {
      const answer = await cc(await tokenProof(holder));
      const claims = expectBound(answer, holder);
      expect(claims.sub).toBe('agent-basic');
    });

    it('a proof signed by another key than the one in its header is refused', async () => {
      const proof = await tokenProof(holder, { signWith: other });
      expect((await refused(server, () => cc(proof), { reason: 'dpop_bad_signature' })).body).toEqual(genericRefusal);
    });

    it('a replayed proof is refused the second time; the same jti under a new proof too', async () => {
      const jti = randomUUID();
      const proof = await tokenProof(holder, { jti });
      expectBound(await cc(proof), holder);
      await refused(server, () => cc(proof), { reason: 'dpop_replay' });
      // A fresh signature (other iat) does not make the jti new.
      const again = await tokenProof(holder, { jti, iat: Math.floor(Date.now() / 1000) - 1 });
      await refused(server, () => cc(again), { reason: 'dpop_replay' });
    });

    it('the same proof sent five times at once is accepted exactly once', async () => {
      const proof = await tokenProof(holder);
      const answers = await Promise.all(Array.from({ length: 5 }, () => cc(proof)));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400, 400, 400, 400]);
      for (const answer of answers.filter((a) => a.status === 400)) expect(answer.body).toEqual(genericRefusal);
    });

    it('a proof for another URL is refused: another endpoint, another host, another scheme', async () => {
      const { port } = new URL(server.issuer);
      for (const htu of [`${server.issuer}/introspect`, `${server.issuer}/token/`, `http://localhost:${port}/token`, 'https://evil.example/token', `https://127.0.0.1:${port}/token`, 'not a url']) {
        const proof = await tokenProof(holder, { htu });
        await refused(server, () => cc(proof), { reason: 'dpop_htu_mismatch' });
      }
    });

    it('the query, the fragment and the case of scheme and host are not part of htu (§4.3): still accepted', async () => {
      expectBound(await cc(await tokenProof(holder, { htu: `${tokenUrl()}?grant_type=client_credentials` })), holder);
      expectBound(await cc(await tokenProof(holder, { htu: `${tokenUrl()}#frag` })), holder);
      expectBound(await cc(await tokenProof(holder, { htu: tokenUrl().replace('http://', 'HTTP://') })), holder);
    });

    it('a proof for another method is refused', async () => {
      for (const htm of ['GET', 'post', 'PUT']) {
        const proof = await tokenProof(holder, { htm });
        await refused(server, () => cc(proof), { reason: 'dpop_htm_mismatch' });
      }
    });

    it('iat 10 minutes in the past or the future is refused, and so is 90 s old (window 60 s); 30 s either way is fine', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const iat of [now - 600, now + 600, now - 90, now + 90]) {
        const proof = await tokenProof(holder, { iat });
        await refused(server, () => cc(proof), { reason: 'dpop_iat_out_of_window' });
      }
      expectBound(await cc(await tokenProof(holder, { iat: now - 30 })), holder);
      expectBound(await cc(await tokenProof(holder, { iat: now + 30 })), holder);
    });

    it('alg none is refused, with an empty or a made-up signature', async () => {
      await refused(server, () => cc(unsignedProof(holder, tokenUrl())), { reason: 'dpop_malformed' });
      const header = b64({ alg: 'none', typ: 'dpop+jwt', jwk: holder.jwk });
      const payload = b64({ jti: randomUUID(), htm: 'POST', htu: tokenUrl(), iat: Math.floor(Date.now() / 1000) });
      await refused(server, () => cc(`${header}.${payload}.${'A'.repeat(43)}`), { reason: 'dpop_alg_not_allowed' });
    });

    it('an HS256 proof with a symmetric key (kty oct) in its header is refused', async () => {
      const secret = randomBytes(32);
      const octJwk: JWK = { kty: 'oct', k: secret.toString('base64url') };
      const proof = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: tokenUrl() })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: octJwk })
        .setIssuedAt()
        .sign(secret);
      await refused(server, () => cc(proof), { reason: 'dpop_alg_not_allowed' });
    });

    it('a proof carrying the private key in its jwk is refused (and nothing is bound to it)', async () => {
      const privateJwk = await exportJWK(holder.privateKey);
      expect(privateJwk.d).toBeDefined();
      const proof = await tokenProof(holder, { jwk: privateJwk });
      await refused(server, () => cc(proof), { reason: 'dpop_private_key' });
    });

    it('a header key that does not fit the alg, and an RSA key under 2048 bits, are refused', async () => {
      const rsa = await proofKey('RS256');
      // alg ES256 (the signer's) with an RSA jwk.
      await refused(server, async () => cc(await tokenProof(rsa, { signWith: holder })), { reason: 'dpop_malformed' });
      // jose will not make or sign with such a key: node:crypto does.
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const signingInput = `${b64({ alg: 'RS256', typ: 'dpop+jwt', jwk: weak.publicKey.export({ format: 'jwk' }) })}.${b64({ jti: randomUUID(), htm: 'POST', htu: tokenUrl(), iat: Math.floor(Date.now() / 1000) })}`;
      const proof = `${signingInput}.${sign('sha256', Buffer.from(signingInput), weak.privateKey).toString('base64url')}`;
      await refused(server, () => cc(proof), { reason: 'dpop_malformed' });
    });

    it('a proof without typ dpop+jwt is refused', async () => {
      for (const typ of ['JWT', 'at+jwt', 'dpop']) {
        const proof = await tokenProof(holder, { typ });
        await refused(server, () => cc(proof), { reason: 'dpop_wrong_typ' });
      }
    });

    it('a proof without jti is refused', async () => {
      const proof = await tokenProof(holder, { claims: { jti: undefined } });
      expect(decodeJwt(proof).jti).toBeUndefined();
      await refused(server, () => cc(proof), { reason: 'dpop_missing_claims' });
    });

    it('two DPoP headers are refused (as Node\'s fetch joins them, and joined by hand); neither proof is used up', async () => {
      const first = await tokenProof(holder);
      const second = await tokenProof(holder);
      const headers = new Headers({ ...agentBasic, 'content-type': 'application/x-www-form-urlencoded' });
      headers.append('DPoP', first);
      headers.append('DPoP', second);
      expect(headers.get('dpop')).toBe(`${first}, ${second}`);
      await refused(server, () => fetchAnswer(tokenUrl(), { method: 'POST', headers, body: new URLSearchParams(ccForm).toString() }), { reason: 'dpop_multiple_proofs' });
      await refused(server, () => cc(`${first}, ${second}`), { reason: 'dpop_multiple_proofs' });
      await refused(server, () => cc(`${first},`), { reason: 'dpop_multiple_proofs' });
      // The refusal came before the replay check: each proof, alone, still works once.
      expectBound(await cc(first), holder);
      expectBound(await cc(second), holder);
    });

    it('malformed proofs are refused', async () => {
      const valid = await tokenProof(holder);
      const [h, p] = valid.split('.');
      for (const junk of ['not-a-jwt', 'a.b.c', `${h}.${p}`, `${h}.${p}.sig.extra`, `${h}.!!!.${'A'.repeat(10)}`, `${b64('just a string')}.${p}.AAAA`]) {
        await refused(server, () => cc(junk), { reason: 'dpop_malformed' });
      }
    });

    it('an oversized proof (over 8 KiB) is refused without being verified', async () => {
      const proof = await tokenProof(holder, { claims: { pad: 'x'.repeat(7000) } });
      expect(proof.length).toBeGreaterThan(8192);
      await refused(server, () => cc(proof), { reason: 'dpop_malformed' });
    });

    it('a refused proof never left a Passport with cnf behind: every bound Passport issued so far is for the holder key', async () => {
      const records = await server.deps.store.audit.list({ limit: 1000 });
      const bound = records.filter((record) => record.event === 'passport.issued' && record.details?.dpop_jkt);
      expect(bound.length).toBeGreaterThan(0);
      for (const record of bound) expect(record.details?.dpop_jkt).toBe(holder.jkt);
      const denied = records.filter((record) => record.event === 'passport.denied' && String(record.details?.reason).startsWith('dpop_'));
      expect(denied.length).toBeGreaterThanOrEqual(20);
    });
  });

  describe('bound Passports at userinfo', () => {
    let token: string;
    const userinfoUrl = () => `${server.issuer}/userinfo`;
    const userinfo = (authorization: string, proof?: string, method = 'GET') => fetchAnswer(`${server.url}/userinfo`, { method, headers: { authorization, ...dpopHeader(proof) } });
    const userinfoProof = (key: ProofKey, options: Partial<Parameters<typeof makeProof>[1]> = {}) => makeProof(key, { htm: 'GET', htu: userinfoUrl(), accessToken: token, ...options });

    beforeAll(async () => {
      // A Passport for userinfo (aud = issuer): a code with identity scopes only, redeemed with a proof.
      const answer = await redeem(await newCode({ identityScopes: ['openid', 'email'], resource: undefined, resourceScopes: [] }), await tokenProof(holder));
      const claims = expectBound(answer, holder);
      expect(claims.aud).toBe(server.issuer);
      token = answer.body.access_token as string;
    });

    /** A 401 with a DPoP challenge naming the error and the algorithms. */
    async function challenged(send: () => Promise<Answer>, error: string, reason: string) {
      const answer = await refused(server, send, { status: 401, error, reason });
      const challenge = answer.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(new RegExp(`^DPoP error="${error}"`));
      expect(challenge).toMatch(/algs="[^"]*ES256[^"]*"/);
      expect(challenge).not.toMatch(/HS256|none/);
      expect(answer.body.sub).toBeUndefined();
      return answer;
    }

    it('the right key with the DPoP scheme gets the person\'s claims', async () => {
      const answer = await userinfo(`DPoP ${token}`, await userinfoProof(holder));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({ sub: ada.sub, email: 'ada@example.test' });
    });

    it('the bound Passport as Bearer is refused as invalid_token, with or without a proof', async () => {
      await challenged(() => userinfo(`Bearer ${token}`), 'invalid_token', 'bound_token_as_bearer');
      await challenged(() => userinfo(`Bearer ${token}`, undefined, 'POST'), 'invalid_token', 'bound_token_as_bearer');
      // A valid proof does not make up for the wrong scheme.
      await challenged(async () => userinfo(`Bearer ${token}`, await userinfoProof(holder)), 'invalid_token', 'bound_token_as_bearer');
      // Nor in the form body (RFC 6750 §2.2), which is always Bearer.
      await challenged(
        async () => fetchAnswer(`${server.url}/userinfo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await userinfoProof(holder, { htm: 'POST' }) }, body: `access_token=${token}` }),
        'invalid_token',
        'bound_token_as_bearer',
      );
    });

    it('the DPoP scheme with a proof by another key is refused', async () => {
      await challenged(async () => userinfo(`DPoP ${token}`, await userinfoProof(other)), 'invalid_dpop_proof', 'dpop_key_mismatch');
    });

    it('the DPoP scheme without a proof, or without ath, or with the ath of another token, is refused', async () => {
      await challenged(() => userinfo(`DPoP ${token}`), 'invalid_dpop_proof', 'dpop_proof_missing');
      await challenged(async () => userinfo(`DPoP ${token}`, await makeProof(holder, { htm: 'GET', htu: userinfoUrl() })), 'invalid_dpop_proof', 'dpop_ath_missing');
      const otherToken = (await cc(await tokenProof(holder))).body.access_token as string;
      await challenged(async () => userinfo(`DPoP ${token}`, await userinfoProof(holder, { accessToken: otherToken })), 'invalid_dpop_proof', 'dpop_ath_mismatch');
    });

    it('a userinfo proof replayed, made for POST, or made for /token is refused', async () => {
      const proof = await userinfoProof(holder);
      expect((await userinfo(`DPoP ${token}`, proof)).status).toBe(200);
      await challenged(() => userinfo(`DPoP ${token}`, proof), 'invalid_dpop_proof', 'dpop_replay');
      await challenged(async () => userinfo(`DPoP ${token}`, await userinfoProof(holder, { htm: 'POST' })), 'invalid_dpop_proof', 'dpop_htm_mismatch');
      await challenged(async () => userinfo(`DPoP ${token}`, await userinfoProof(holder, { htu: tokenUrl() })), 'invalid_dpop_proof', 'dpop_htu_mismatch');
      await challenged(async () => userinfo(`DPoP ${token}`, await userinfoProof(holder, { signWith: other })), 'invalid_dpop_proof', 'dpop_bad_signature');
    });

    it('an unbound Passport under the DPoP scheme is refused, even with a valid proof', async () => {
      const unbound = await redeem(await newCode({ identityScopes: ['openid'], resource: undefined, resourceScopes: [] }));
      expect(unbound.body.token_type).toBe('Bearer');
      const unboundToken = unbound.body.access_token as string;
      expect((await userinfo(`Bearer ${unboundToken}`)).status).toBe(200);
      await challenged(async () => userinfo(`DPoP ${unboundToken}`, await userinfoProof(holder, { accessToken: unboundToken })), 'invalid_token', 'dpop_scheme_unbound_token');
    });
  });

  describe('bound refresh tokens', () => {
    it('a public client\'s refresh token is bound to the redemption\'s key: refused without a proof or with another key, and not spent by those refusals', async () => {
      const issued = await newCode({ clientId: 'dpop-spa', redirectUri: spaCallback, identityScopes: ['openid'] });
      const redeemed = await redeem(issued, await tokenProof(holder));
      expectBound(redeemed, holder);
      const refreshToken = redeemed.body.refresh_token as string;
      expect(refreshToken).toEqual(expect.any(String));
      const refresh = (proof?: string, token = refreshToken) => postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'dpop-spa' }, dpopHeader(proof));

      expect((await refused(server, () => refresh(), { reason: 'refresh_token_bound_no_proof' })).body.error_description).toMatch(/bound/);
      await refused(server, async () => refresh(await tokenProof(other)), { reason: 'refresh_token_bound_other_key' });
      // A bad proof of the right key is refused before the grant is looked at.
      await refused(server, async () => refresh(await tokenProof(holder, { htu: `${server.issuer}/par` })), { reason: 'dpop_htu_mismatch' });

      // Not spent: the holder refreshes, the family is alive, and the new refresh token is bound too.
      const refreshed = await refresh(await tokenProof(holder));
      expectBound(refreshed, holder);
      const next = refreshed.body.refresh_token as string;
      expect(next).not.toBe(refreshToken);
      await refused(server, () => refresh(undefined, next), { reason: 'refresh_token_bound_no_proof' });
      expectBound(await refresh(await tokenProof(holder), next), holder);
    });

    it('a confidential client\'s refresh token is not bound (it authenticates), while its Passport is', async () => {
      const redeemed = await redeem(await newCode(), await tokenProof(holder));
      expectBound(redeemed, holder);
      const refreshed = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: redeemed.body.refresh_token as string }, webApp);
      expect(refreshed.status, refreshed.text).toBe(200);
      expect(refreshed.body.token_type).toBe('Bearer');
      expect(claimsOf(refreshed.body.access_token).cnf).toBeUndefined();
      // With a proof by any key the refreshed Passport is bound to that key.
      const again = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token as string }, { ...webApp, dpop: await tokenProof(other) });
      expectBound(again, other);
    });
  });

  describe('bound codes (dpop_jkt) and PAR', () => {
    it('a code bound with dpop_jkt is refused without a proof and with another key; the holder\'s key gets a bound Passport', async () => {
      await refused(server, async () => redeem(await newCode({ dpopJkt: holder.jkt })), { reason: 'authorization_code_bound_no_proof' });
      await refused(server, async () => redeem(await newCode({ dpopJkt: holder.jkt }), await tokenProof(other)), { reason: 'authorization_code_bound_other_key' });
      const claims = expectBound(await redeem(await newCode({ dpopJkt: holder.jkt }), await tokenProof(holder)), holder);
      expect(claims.sub).toBe(ada.sub);
    });

    it('a public client\'s bound code is refused to another key too', async () => {
      const issued = await newCode({ clientId: 'dpop-spa', redirectUri: spaCallback, dpopJkt: holder.jkt });
      await refused(server, async () => redeem(issued, await tokenProof(other)), { reason: 'authorization_code_bound_other_key' });
    });

    it('an intercepted bound code tried with another key is used up (one guess, as with PKCE): its holder then gets invalid_grant', async () => {
      const issued = await newCode({ dpopJkt: holder.jkt });
      await refused(server, async () => redeem(issued, await tokenProof(other)), { reason: 'authorization_code_bound_other_key' });
      await refused(server, async () => redeem(issued, await tokenProof(holder)), { error: 'invalid_grant', reason: 'code_reused' });
    });

    const parForm = (extra: Record<string, string> = {}) => ({
      response_type: 'code',
      client_id: 'web-app',
      redirect_uri: webCallback,
      scope: 'openid read-data',
      resource: api,
      code_challenge: s256(randomBytes(32).toString('base64url')),
      code_challenge_method: 'S256',
      ...extra,
    });
    const par = (form: Record<string, string>, proof?: string) => postForm(server, '/par', form, { ...webApp, ...dpopHeader(proof) });
    const parProof = (key: ProofKey, options: Partial<Parameters<typeof makeProof>[1]> = {}) => makeProof(key, { htu: `${server.issuer}/par`, ...options });

    it('PAR with a proof and a dpop_jkt of another key is refused; the same dpop_jkt with its own key\'s proof is accepted', async () => {
      const answer = await refused(server, async () => par(parForm({ dpop_jkt: other.jkt }), await parProof(holder)), { reason: 'par_dpop_jkt_mismatch' });
      expect(answer.body.error_description).toMatch(/dpop_jkt/);
      const accepted = await par(parForm({ dpop_jkt: holder.jkt }), await parProof(holder));
      expect(accepted.status, accepted.text).toBe(201);
    });

    it('PAR with an invalid proof is refused: other signer, made for /token, replayed, alg none', async () => {
      await refused(server, async () => par(parForm(), await parProof(holder, { signWith: other })), { reason: 'dpop_bad_signature' });
      await refused(server, async () => par(parForm(), await tokenProof(holder)), { reason: 'dpop_htu_mismatch' });
      const proof = await parProof(holder);
      expect((await par(parForm(), proof)).status).toBe(201);
      await refused(server, () => par(parForm(), proof), { reason: 'dpop_replay' });
      await refused(server, () => par(parForm(), unsignedProof(holder, `${server.issuer}/par`)), { reason: 'dpop_malformed' });
    });
  });

  describe('token exchange of bound subject tokens, and policies that demand DPoP', () => {
    let subjectToken: string;
    const exchange = (agent: string, proof?: string, token = subjectToken) =>
      postForm(server, '/token', { grant_type: exchangeGrant, subject_token: token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, { ...agentAuth(agent), ...dpopHeader(proof) });
    const delegationCount = async () => (await server.deps.store.delegations.list({}, server.deps.now())).length;

    beforeAll(async () => {
      // Ada's Passport for the demo API at the web app, bound to the holder key.
      const answer = await redeem(await newCode(), await tokenProof(holder));
      expectBound(answer, holder);
      subjectToken = answer.body.access_token as string;
    });

    it('an agent proving its own key is not the holder: refused, and without any proof too; nothing is delegated', async () => {
      const agentKey = await proofKey('EdDSA');
      const before = await delegationCount();
      await refused(server, async () => exchange('te-holder', await tokenProof(agentKey)), { reason: 'subject_token_bound_other_key' });
      await refused(server, () => exchange('te-holder'), { reason: 'subject_token_bound_no_proof' });
      expect(await delegationCount()).toBe(before);
    });

    it('with the holder\'s key the exchange works and the new Passport is bound to that key', async () => {
      const answer = await exchange('te-holder', await tokenProof(holder));
      const claims = expectBound(answer, holder);
      expect(claims).toMatchObject({ sub: ada.sub, act: { sub: 'te-holder' } });
    });

    it('an agent with subject_token_binding: any exchanges it with its own key; the result is bound to its key, not the subject\'s', async () => {
      const agentKey = await proofKey('ES256');
      const claims = expectBound(await exchange('te-any', await tokenProof(agentKey)), agentKey);
      expect(claims.cnf?.jkt).not.toBe(holder.jkt);
      expect(claims).toMatchObject({ sub: ada.sub, act: { sub: 'te-any' } });
    });

    it('an agent with subject_token_binding: any still needs a proof: a bound subject token never becomes a Bearer Passport', async () => {
      await refused(server, () => exchange('te-any'), { reason: 'subject_token_bound_no_proof' });
    });

    it('an agent whose policy requires DPoP gets nothing without a proof (invalid_request), a bound Passport with one', async () => {
      const answer = await refused(server, () => cc(undefined, ccForm, agentAuth('te-strict')), { error: 'invalid_request', reason: 'dpop_required' });
      expect(answer.body.error_description).toMatch(/DPoP/);
      expectBound(await cc(await tokenProof(other), ccForm, agentAuth('te-strict')), other);
    });

    it('a client registered with dpop_bound_access_tokens gets nothing without a proof', async () => {
      await refused(server, () => cc(undefined, ccForm, agentAuth('te-bound')), { reason: 'dpop_required_by_client' });
      expectBound(await cc(await tokenProof(other), ccForm, agentAuth('te-bound')), other);
    });

    it('a resource with dpop_bound_access_tokens_required gets no Bearer Passports', async () => {
      const form = { grant_type: 'client_credentials', resource: boundApi, scope: 'read' };
      await refused(server, () => cc(undefined, form, agentAuth('te-res')), { reason: 'dpop_required_by_resource' });
      const claims = expectBound(await cc(await tokenProof(other), form, agentAuth('te-res')), other);
      expect(claims.aud).toBe(boundApi);
    });
  });

  describe('introspection', () => {
    const introspect = (token: string, proof?: string) => postForm(server, '/introspect', { token }, { ...demoApi, ...dpopHeader(proof) });

    it('a bound Passport introspects with token_type DPoP and its cnf; an unbound one as Bearer without cnf', async () => {
      const bound = await cc(await tokenProof(holder));
      const seen = await introspect(bound.body.access_token as string);
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: holder.jkt }, client_id: 'agent-basic' });

      const unbound = await cc();
      expect(unbound.body.token_type).toBe('Bearer');
      const plain = await introspect(unbound.body.access_token as string);
      expect(plain.body).toMatchObject({ active: true, token_type: 'Bearer' });
      expect(plain.body.cnf).toBeUndefined();
    });

    it('the resource server\'s own proof is checked: a bad one is refused, a good one accepted', async () => {
      const token = (await cc(await tokenProof(holder))).body.access_token as string;
      const rsKey = await proofKey('ES256');
      const introspectUrl = `${server.issuer}/introspect`;
      await refused(server, async () => introspect(token, await makeProof(rsKey, { htu: tokenUrl() })), { reason: 'dpop_htu_mismatch' });
      await refused(server, async () => introspect(token, await makeProof(rsKey, { htu: introspectUrl, signWith: other })), { reason: 'dpop_bad_signature' });
      const ok = await introspect(token, await makeProof(rsKey, { htu: introspectUrl }));
      expect(ok.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: holder.jkt } });
    });
  });

  it('no proof and no Passport ever reached the log, and nothing went unhandled', () => {
    expect(server.logs.filter((line) => line.msg === 'unhandled error')).toEqual([]);
    expect(server.rawLogs()).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});

describe('DPoP server nonces (token, userinfo, introspection, PAR)', () => {
  const window = 300;
  let server: TestConsulate;
  let ada: Person;
  let key: ProofKey;
  const clock = testClock();

  beforeAll(async () => {
    server = await startConsulate({
      now: clock.now,
      files: { 'consulate.yaml': ['listen: { host: 127.0.0.1, port: 0 }', 'keys:', '  reload_seconds: 0.05', 'dpop:', '  nonce_endpoints: [token, userinfo, introspection, par]', `  nonce_window_seconds: ${window}`, ''].join('\n') },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true });
    key = await proofKey('ES256');
  });
  afterAll(async () => server?.stop());

  // Proofs follow the server's clock, which the tests move.
  const proof = (options: Partial<Parameters<typeof makeProof>[1]> = {}) => makeProof(key, { htu: `${server.issuer}/token`, iat: clock.now(), ...options });
  const cc = async (nonce?: string) => postForm(server, '/token', ccForm, { ...agentBasic, dpop: await proof(nonce === undefined ? {} : { nonce }) });
  const nonceOf = (answer: Answer) => answer.headers.get('dpop-nonce');

  /** use_dpop_nonce with a fresh nonce that then works. */
  async function demandsNonce(send: () => Promise<Answer>, status = 400) {
    const answer = await refused(server, send, { status, error: 'use_dpop_nonce', reason: 'dpop_nonce_required' });
    expect(nonceOf(answer)).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]+$/);
    return nonceOf(answer) as string;
  }

  it('no nonce: 400 use_dpop_nonce with a DPoP-Nonce; the retry with it is a bound Passport, and the answer carries the nonce again', async () => {
    const nonce = await demandsNonce(() => cc());
    const answer = await cc(nonce);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.token_type).toBe('DPoP');
    expect(claimsOf(answer.body.access_token).cnf).toEqual({ jkt: key.jkt });
    expect(nonceOf(answer)).toBe(nonce);
  });

  it('every answer of the endpoint carries the nonce: a Bearer request, an error', async () => {
    const bearer = await postForm(server, '/token', ccForm, agentBasic);
    expect(bearer.status).toBe(200);
    expect(bearer.body.token_type).toBe('Bearer');
    expect(nonceOf(bearer)).toEqual(expect.any(String));
    const badClient = await postForm(server, '/token', ccForm, { authorization: basicAuth('agent-basic', 'wrong') });
    expect(badClient.status).toBe(401);
    expect(nonceOf(badClient)).toBe(nonceOf(bearer));
  });

  it('PAR and introspection answer every refusal with their nonce: a repeated parameter, a wrong client secret (RFC 9449 §8)', async () => {
    const parRepeated = await postForm(server, '/par', 'client_id=web-app&client_id=web-app', webApp);
    expect(parRepeated.status).toBe(400);
    const parNonce = nonceOf(parRepeated);
    const parBadClient = await postForm(server, '/par', { client_id: 'web-app' }, { authorization: basicAuth('web-app', 'wrong') });
    const introspectionRepeated = await postForm(server, '/introspect', 'token=a&token=b', demoApi);
    const introspectionBadClient = await postForm(server, '/introspect', { token: 'x' }, { authorization: basicAuth('demo-api', 'wrong') });
    expect(parNonce).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]+$/);
    expect(parBadClient.status).toBe(401);
    expect(nonceOf(parBadClient)).toBe(parNonce);
    expect(introspectionRepeated.status).toBe(400);
    expect(introspectionBadClient.status).toBe(401);
    expect(nonceOf(introspectionBadClient)).toBe(nonceOf(introspectionRepeated));
    expect(nonceOf(introspectionRepeated)).not.toBe(parNonce);
  });

  it('a nonce of another endpoint is refused: userinfo\'s and introspection\'s at the token endpoint, and the reverse', async () => {
    const tokenNonce = await demandsNonce(() => cc());
    const userinfoNonce = nonceOf(await fetchAnswer(`${server.url}/userinfo`, {}));
    const introspectionNonce = nonceOf(await postForm(server, '/introspect', { token: 'x' }, demoApi));
    expect(userinfoNonce).toEqual(expect.any(String));
    expect(introspectionNonce).toEqual(expect.any(String));
    expect(new Set([tokenNonce, userinfoNonce, introspectionNonce]).size).toBe(3);
    await demandsNonce(() => cc(userinfoNonce!));
    await demandsNonce(() => cc(introspectionNonce!));
    // The token endpoint's nonce at introspection.
    const token = (await cc(tokenNonce)).body.access_token as string;
    const introspect = async (nonce: string) => postForm(server, '/introspect', { token }, { ...demoApi, dpop: await proof({ htu: `${server.issuer}/introspect`, nonce }) });
    await demandsNonce(() => introspect(tokenNonce));
    const seen = await introspect(introspectionNonce!);
    expect(seen.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });

  it('a nonce lives one window more, then is stale: a new window hands out a new nonce', async () => {
    const old = await demandsNonce(() => cc());
    clock.advance(window);
    try {
      const answer = await cc(old);
      expect(answer.status, answer.text).toBe(200);
      const fresh = nonceOf(answer);
      expect(fresh).not.toBe(old);
      clock.advance(window);
      const next = await demandsNonce(() => cc(old));
      expect(next).not.toBe(old);
      expect((await cc(next)).status).toBe(200);
    } finally {
      clock.advance(-2 * window);
    }
  });

  it('forged nonces are refused', async () => {
    const real = await demandsNonce(() => cc());
    const [windowPart, mac] = real.split('.') as [string, string];
    const flipped = `${windowPart}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    const nextWindow = `${(parseInt(windowPart, 36) + 1).toString(36)}.${mac}`;
    for (const forged of ['nonce', randomBytes(24).toString('base64url'), `${windowPart}.${randomBytes(18).toString('base64url')}`, flipped, nextWindow, `${real}x`, 'x'.repeat(2000)]) {
      await demandsNonce(() => cc(forged));
    }
  });

  it('PAR demands its own nonce too', async () => {
    const form = { response_type: 'code', client_id: 'web-app', redirect_uri: webCallback, scope: 'openid', code_challenge: s256(randomBytes(32).toString('base64url')), code_challenge_method: 'S256' };
    const par = async (nonce?: string) => postForm(server, '/par', form, { ...webApp, dpop: await proof({ htu: `${server.issuer}/par`, ...(nonce ? { nonce } : {}) }) });
    const tokenNonce = await demandsNonce(() => cc());
    const nonce = await demandsNonce(() => par());
    expect(nonce).not.toBe(tokenNonce);
    await demandsNonce(() => par(tokenNonce));
    const pushed = await par(nonce);
    expect(pushed.status, pushed.text).toBe(201);
    expect(nonceOf(pushed)).toBe(nonce);
  });

  it('userinfo demands its own nonce as a 401 DPoP challenge', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const code = await issueCode(server.deps, {
      sub: ada.sub,
      clientId: 'web-app',
      identityScopes: ['openid', 'email'],
      resourceScopes: [],
      redirectUri: webCallback,
      codeChallenge: s256(verifier),
      authTime: clock.now() - 30,
      sid: 'sid-nonce',
      claims: ada.claims,
    });
    const tokenNonce = await demandsNonce(() => cc());
    const redeemed = await postForm(server, '/token', { grant_type: 'authorization_code', code, redirect_uri: webCallback, code_verifier: verifier }, { ...webApp, dpop: await proof({ nonce: tokenNonce }) });
    expect(redeemed.status, redeemed.text).toBe(200);
    const token = redeemed.body.access_token as string;
    const userinfo = async (nonce?: string) =>
      fetchAnswer(`${server.url}/userinfo`, { headers: { authorization: `DPoP ${token}`, dpop: await proof({ htm: 'GET', htu: `${server.issuer}/userinfo`, accessToken: token, ...(nonce ? { nonce } : {}) }) } });

    const challenge = async (send: () => Promise<Answer>) => {
      const nonce = await demandsNonce(send, 401);
      expect(nonce).not.toBe(tokenNonce);
      return nonce;
    };
    const nonce = await challenge(() => userinfo());
    await challenge(() => userinfo(tokenNonce));
    const answer = await userinfo(nonce);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ sub: ada.sub, email: 'ada@example.test' });
    expect(nonceOf(answer)).toBe(nonce);
  });
});

describe('DPoP replay and nonces across a restart', () => {
  let server: TestConsulate | undefined;
  afterAll(async () => server?.stop());

  it('a proof used before the restart is refused after it; a nonce from before still works (the secret is kept)', async () => {
    const files = { 'consulate.yaml': ['listen: { host: 127.0.0.1, port: 0 }', 'keys:', '  reload_seconds: 0.05', 'dpop:', '  nonce_endpoints: [token]', ''].join('\n') };
    const first = await startConsulate({ files });
    server = first;
    const key = await proofKey('ES256');
    const nonce = (await postForm(first, '/token', ccForm, agentBasic)).headers.get('dpop-nonce') as string;
    expect(nonce).toEqual(expect.any(String));
    const proof = await makeProof(key, { htu: `${first.issuer}/token`, nonce });
    expect((await postForm(first, '/token', ccForm, { ...agentBasic, dpop: proof })).status).toBe(200);

    await first.stop({ keepData: true });
    server = undefined;
    const second = await startConsulate({ dir: first.dir, reuseConfig: true, port: first.port });
    server = second;
    expect(second.issuer).toBe(first.issuer);
    await refused(second, () => postForm(second, '/token', ccForm, { ...agentBasic, dpop: proof }), { reason: 'dpop_replay' });
    const fresh = await makeProof(key, { htu: `${second.issuer}/token`, nonce });
    const answer = await postForm(second, '/token', ccForm, { ...agentBasic, dpop: fresh });
    expect(answer.status, answer.text).toBe(200);
    expect(claimsOf(answer.body.access_token).cnf).toEqual({ jkt: key.jkt });
  });
});
