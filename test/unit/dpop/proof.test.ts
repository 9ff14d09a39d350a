// DPoP proof validation (RFC 9449 §4.3) and server nonces (§8–9) with a fixed clock and proofs made
// by jose, as a client library would make them: what is accepted, and each way a proof is refused.
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNonceIssuer } from '../../../src/dpop/nonce.ts';
import { accessTokenHashOf, normalizeHtu, verifyDpopProof, type DpopRequest } from '../../../src/dpop/proof.ts';

const now = 1_700_000_000;
const url = 'https://api.example.test/data';
const window = 60;

type Key = { privateKey: CryptoKey; jwk: JWK; alg: string };
const keys: Record<string, Key> = {};

async function makeKey(alg: 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey), alg };
}

type ProofOptions = { key?: Key; header?: Record<string, unknown>; claims?: Record<string, unknown>; omit?: string[] };

/** A proof for GET `url` at `now`, changed by the options. */
async function proof(options: ProofOptions = {}): Promise<string> {
  const key = options.key ?? (keys.ES256 as Key);
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: 'GET', htu: url, iat: now, ...options.claims };
  for (const name of options.omit ?? []) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...options.header }).sign(key.privateKey);
}

/** A request for GET `url` with a fresh replay set, changed by the overrides. */
function request(proofs: string[], overrides: Partial<DpopRequest> = {}): DpopRequest {
  const seen = new Set<string>();
  return {
    proofs,
    method: 'GET',
    url,
    now,
    iatWindowSeconds: window,
    useJti: async (jkt, jti) => (seen.has(`${jkt}:${jti}`) ? false : (seen.add(`${jkt}:${jti}`), true)),
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  for (const alg of ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const) keys[alg] = await makeKey(alg);
});

describe('verifyDpopProof: accepted proofs', () => {
  it.each(['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'])('%s: ok, with the RFC 7638 thumbprint of the proof key', async (alg) => {
    const key = keys[alg] as Key;
    const p = await proof({ key });
    const result = await verifyDpopProof(request([p]));
    expect(result).toMatchObject({ ok: true, jkt: await calculateJwkThumbprint(key.jwk, 'sha256'), jwk: key.jwk });
  });

  it('ath: the proof names the hash of the access token it goes with (RFC 9449 §7.1 example value)', async () => {
    expect(accessTokenHashOf('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    const token = 'an-access-token';
    const p = await proof({ claims: { ath: accessTokenHashOf(token) } });
    expect((await verifyDpopProof(request([p], { accessToken: token }))).ok).toBe(true);
  });

  it('the iat window is inclusive at both ends', async () => {
    for (const iat of [now - window, now + window]) {
      expect((await verifyDpopProof(request([await proof({ claims: { iat } })]))).ok).toBe(true);
    }
  });

  it('the method of the request is compared in upper case', async () => {
    const p = await proof({ claims: { htm: 'POST' } });
    expect((await verifyDpopProof(request([p], { method: 'post' }))).ok).toBe(true);
  });
});

describe('verifyDpopProof: htu (§4.3 step 9)', () => {
  const cases: [string, string, boolean][] = [
    ['query and fragment of the request are ignored', `${url}?page=2#top`, true],
    ['query in the proof is ignored', url, true],
    ['scheme and host case are normalised', 'HTTPS://API.Example.TEST/data', true],
    ['the default port is dropped', 'https://api.example.test:443/data', true],
    ['another port does not match', 'https://api.example.test:8443/data', false],
    ['another path does not match', 'https://api.example.test/data/1', false],
    ['path case matters', 'https://api.example.test/Data', false],
    ['another scheme does not match', 'http://api.example.test/data', false],
  ];
  it.each(cases)('%s', async (name, requestUrl, ok) => {
    const htu = name === 'query in the proof is ignored' ? `${url}?q=1` : url;
    const result = await verifyDpopProof(request([await proof({ claims: { htu } })], { url: requestUrl }));
    expect(result.ok ? 'ok' : result.reason).toBe(ok ? 'ok' : 'htu_mismatch');
  });

  it('normalizeHtu refuses what is not an http(s) URL', () => {
    expect(normalizeHtu('urn:example:x')).toBeUndefined();
    expect(normalizeHtu('not a url')).toBeUndefined();
    expect(normalizeHtu('https://user:pw@API.example.test:443/a?b#c')).toBe('https://api.example.test/a');
  });
});

describe('verifyDpopProof: refusals', () => {
  const reasonOf = async (proofs: string[], overrides: Partial<DpopRequest> = {}) => {
    const result = await verifyDpopProof(request(proofs, overrides));
    return result.ok ? 'ok' : result.reason;
  };

  it('two proofs, or none', async () => {
    expect(await reasonOf([await proof(), await proof()])).toBe('multiple_proofs');
    expect(await reasonOf([])).toBe('multiple_proofs');
  });

  it('not a compact JWS', async () => {
    expect(await reasonOf(['not-a-jws'])).toBe('malformed');
    expect(await reasonOf([`${await proof()}.extra.parts`])).toBe('malformed');
    expect(await reasonOf(['a'.repeat(9000) + '.b.c'])).toBe('malformed');
  });

  it('typ other than dpop+jwt, or none', async () => {
    expect(await reasonOf([await proof({ header: { typ: 'JWT' } })])).toBe('wrong_typ');
    expect(await reasonOf([await proof({ header: { typ: 'at+jwt' } })])).toBe('wrong_typ');
    const { typ: _typ, ...header } = { alg: 'ES256', typ: 'x', jwk: keys.ES256?.jwk };
    const valid = (await proof()).split('.');
    expect(await reasonOf([`${b64(header)}.${valid[1]}.${valid[2]}`])).toBe('wrong_typ');
  });

  it('alg none', async () => {
    const header = b64({ alg: 'none', typ: 'dpop+jwt', jwk: keys.ES256?.jwk });
    const payload = b64({ jti: 'j', htm: 'GET', htu: url, iat: now });
    // Unsigned: not even the shape of a signed proof.
    expect(await reasonOf([`${header}.${payload}.`])).toBe('malformed');
    // With something in the signature slot: the algorithm is refused.
    expect(await reasonOf([`${header}.${payload}.AAAA`])).toBe('alg_not_allowed');
  });

  it('HS256 (a symmetric key), and algorithms outside the caller\'s list', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!');
    // A symmetric jwk (kty oct, member k) in the header, as a confused client might send.
    const symmetric = { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as unknown as JWK;
    const hs = await new SignJWT({ jti: 'j', htm: 'GET', htu: url, iat: now }).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: symmetric }).sign(secret);
    expect(await reasonOf([hs])).toBe('alg_not_allowed');
    expect(await reasonOf([await proof({ key: keys.RS256 as Key })], { algorithms: ['ES256'] })).toBe('alg_not_allowed');
  });

  it('a private key in the jwk header', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(privateJwk.d).toBeDefined();
    const p = await new SignJWT({ jti: 'j', htm: 'GET', htu: url, iat: now }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk }).sign(privateKey);
    expect(await reasonOf([p])).toBe('private_key');
  });

  it('no jwk header', async () => {
    const p = await new SignJWT({ jti: 'j', htm: 'GET', htu: url, iat: now }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt' }).sign((keys.ES256 as Key).privateKey);
    expect(await reasonOf([p])).toBe('malformed');
  });

  it('a bad signature: signed by another key than the one in the header, or a changed payload', async () => {
    const other = await makeKey('ES256');
    expect(await reasonOf([await proof({ key: { ...other, jwk: (keys.ES256 as Key).jwk } })])).toBe('bad_signature');
    const [h, , s] = (await proof()).split('.');
    const changed = b64({ jti: 'j2', htm: 'GET', htu: url, iat: now });
    expect(await reasonOf([`${h}.${changed}.${s}`])).toBe('bad_signature');
  });

  it.each(['jti', 'htm', 'htu', 'iat'])('missing %s', async (claim) => {
    expect(await reasonOf([await proof({ omit: [claim] })])).toBe('missing_claims');
  });

  it('claims of the wrong type', async () => {
    expect(await reasonOf([await proof({ claims: { htm: 1 } })])).toBe('missing_claims');
    expect(await reasonOf([await proof({ claims: { iat: 'now' } })])).toBe('missing_claims');
    expect(await reasonOf([await proof({ claims: { jti: '' } })])).toBe('missing_claims');
    expect(await reasonOf([await proof({ claims: { jti: 'x'.repeat(257) } })])).toBe('missing_claims');
  });

  it('htm mismatch', async () => {
    expect(await reasonOf([await proof()], { method: 'POST' })).toBe('htm_mismatch');
    expect(await reasonOf([await proof({ claims: { htm: 'get' } })])).toBe('htm_mismatch');
  });

  it('iat too old, or too far ahead', async () => {
    expect(await reasonOf([await proof({ claims: { iat: now - window - 1 } })])).toBe('iat_out_of_window');
    expect(await reasonOf([await proof({ claims: { iat: now - 10 * window } })])).toBe('iat_out_of_window');
    expect(await reasonOf([await proof({ claims: { iat: now + window + 1 } })])).toBe('iat_out_of_window');
  });

  it('ath missing or for another token', async () => {
    expect(await reasonOf([await proof()], { accessToken: 'the-token' })).toBe('ath_missing');
    expect(await reasonOf([await proof({ claims: { ath: accessTokenHashOf('another-token') } })], { accessToken: 'the-token' })).toBe('ath_mismatch');
  });

  it('replay: the same proof twice; a refused proof does not use up its jti', async () => {
    const seen = new Set<string>();
    const useJti = async (jkt: string, jti: string) => (seen.has(`${jkt}:${jti}`) ? false : (seen.add(`${jkt}:${jti}`), true));
    const jti = randomUUID();
    expect(await reasonOf([await proof({ claims: { jti, htu: 'https://other.example.test/' } })], { useJti })).toBe('htu_mismatch');
    const p = await proof({ claims: { jti } });
    expect(await reasonOf([p], { useJti })).toBe('ok');
    expect(await reasonOf([p], { useJti })).toBe('replay');
    // The jti is remembered until the end of the proof's window.
    const expiries: number[] = [];
    await verifyDpopProof(request([await proof()], { useJti: async (_k, _j, expiresAt) => (expiries.push(expiresAt), true) }));
    expect(expiries).toEqual([now + window]);
  });
});

describe('verifyDpopProof with server nonces', () => {
  const issuer = createNonceIssuer(Buffer.from('nonce-secret-0123456789abcdef'), 300);
  const endpoint = 'https://api.example.test';
  const checkNonce = (nonce: string | undefined) => issuer.check(endpoint, nonce, now);

  it('the current nonce is accepted', async () => {
    expect((await verifyDpopProof(request([await proof({ claims: { nonce: issuer.current(endpoint, now) } })], { checkNonce }))).ok).toBe(true);
  });

  it('missing, stale, or another endpoint\'s nonce: nonce_required', async () => {
    const reason = async (nonce?: string) => {
      const result = await verifyDpopProof(request([await proof({ claims: nonce === undefined ? {} : { nonce } })], { checkNonce }));
      return result.ok ? 'ok' : result.reason;
    };
    expect(await reason()).toBe('nonce_required');
    expect(await reason(issuer.current(endpoint, now - 600))).toBe('nonce_required');
    expect(await reason(issuer.current('https://other.example.test', now))).toBe('nonce_required');
    expect(await reason('made-up')).toBe('nonce_required');
  });
});

describe('createNonceIssuer', () => {
  const secret = Buffer.from('nonce-secret-0123456789abcdef');
  const issuer = createNonceIssuer(secret, 60);
  const endpoint = 'https://as.example.test/token';
  const start = 1_700_000_040; // the start of a 60-second window

  it('one nonce per window and endpoint', () => {
    expect(issuer.current(endpoint, start)).toBe(issuer.current(endpoint, start + 59));
    expect(issuer.current(endpoint, start + 60)).not.toBe(issuer.current(endpoint, start));
    expect(issuer.current('https://rs.example.test', start)).not.toBe(issuer.current(endpoint, start));
    expect(createNonceIssuer(Buffer.from('another-secret-0123456789abcd'), 60).current(endpoint, start)).not.toBe(issuer.current(endpoint, start));
  });

  it('accepts the current and the previous window, nothing older and nothing ahead', () => {
    const nonce = issuer.current(endpoint, start);
    expect(issuer.check(endpoint, nonce, start)).toBe(true);
    expect(issuer.check(endpoint, nonce, start + 119)).toBe(true);
    expect(issuer.check(endpoint, nonce, start + 120)).toBe(false);
    expect(issuer.check(endpoint, issuer.current(endpoint, start + 60), start)).toBe(false);
  });

  it('refuses another endpoint\'s nonce, another secret\'s, none, and junk', () => {
    expect(issuer.check('https://rs.example.test', issuer.current(endpoint, start), start)).toBe(false);
    expect(issuer.check(endpoint, createNonceIssuer(Buffer.from('another-secret-0123456789abcd'), 60).current(endpoint, start), start)).toBe(false);
    expect(issuer.check(endpoint, undefined, start)).toBe(false);
    expect(issuer.check(endpoint, '', start)).toBe(false);
    expect(issuer.check(endpoint, 'x'.repeat(65), start)).toBe(false);
  });
});
