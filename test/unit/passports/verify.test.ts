// Passport verification with node:crypto holds the same policy as jose's jwtVerify with the options
// it replaced: every forged, altered, mistyped or untimely token below gets the same verdict from
// both, and the reasons callers log are the expected ones.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, type Keyring } from '../../../src/passports/keys.ts';
import { mintPassport } from '../../../src/passports/mint.ts';
import { unverifiedJws, verifyPassport } from '../../../src/passports/verify.ts';
import type { Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

const t0 = 1_800_000_000;
const issuer = 'https://consulate.example';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('Passport verification', () => {
  let store: Store;
  let keyring: Keyring;
  let es: { kid: string; privateKey: ReturnType<typeof createPrivateKey> };
  let rs: { kid: string; privateKey: ReturnType<typeof createPrivateKey> };
  const base = () => ({ iss: issuer, sub: 'p', aud: 'https://api.example', client_id: 'c', jti: 'j', iat: t0, exp: t0 + 300, scope: 'x' });

  beforeAll(async () => {
    store = openSqliteStore(':memory:');
    keyring = createKeyring(store.keys, { retentionSeconds: 3600, reloadSeconds: 0 });
    await keyring.ensureKeys(t0);
    es = await keyring.signingKey('ES256', t0);
    rs = await keyring.signingKey('RS256', t0);
  });
  afterAll(async () => store.close());

  /** Signs any header and payload with one of our keys (or another), as a forger with that key could. */
  const jws = (header: Record<string, unknown>, payload: unknown, key: 'es' | 'rs' = 'es') => {
    const input = `${b64(header)}.${b64(payload)}`;
    const signer = key === 'es' ? es : rs;
    const signature = key === 'es' ? sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), signer.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  };
  const esHeader = () => ({ alg: 'ES256', kid: es.kid, typ: 'at+jwt' });

  /** jose's verdict with the options verifyPassport used to pass it. */
  const joseAccepts = async (token: string, now: number) => {
    try {
      await jwtVerify(token, async (header) => {
        const key = header.kid ? await keyring.verificationKey(header.kid, now) : undefined;
        if (!key || key.alg !== header.alg) throw new Error('unknown key');
        return key.publicKey;
      }, { issuer, typ: 'at+jwt', algorithms: ['ES256', 'RS256'], requiredClaims: ['sub', 'aud', 'client_id', 'jti', 'iat', 'exp'], currentDate: new Date(now * 1000), clockTolerance: 0 });
      return true;
    } catch {
      return false;
    }
  };

  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const cases: [string, () => string, string | true][] = [
    ['a minted ES256 Passport', () => jws(esHeader(), base()), true],
    ['an RS256 Passport', () => jws({ alg: 'RS256', kid: rs.kid, typ: 'at+jwt' }, base(), 'rs'), true],
    ['typ written as its media type', () => jws({ ...esHeader(), typ: 'application/AT+JWT' }, base()), true],
    ['nbf in the past', () => jws(esHeader(), { ...base(), nbf: t0 - 1 }), true],
    ['alg none', () => `${b64({ alg: 'none', kid: es.kid, typ: 'at+jwt' })}.${b64(base())}.`, 'malformed'],
    ['alg HS256', () => `${b64({ alg: 'HS256', kid: es.kid, typ: 'at+jwt' })}.${b64(base())}.${b64('x'.repeat(32))}`, 'malformed'],
    ['a header alg that is not its key\'s', () => jws({ ...esHeader(), alg: 'RS256' }, base()), 'unknown_key'],
    ['an unknown kid', () => jws({ ...esHeader(), kid: 'nope' }, base()), 'unknown_key'],
    ['no kid', () => jws({ alg: 'ES256', typ: 'at+jwt' }, base()), 'unknown_key'],
    ['a critical header extension', () => jws({ ...esHeader(), crit: ['exp'], exp: 1 }, base()), 'malformed'],
    ['another key\'s signature', () => { const input = `${b64(esHeader())}.${b64(base())}`; return `${input}.${sign('sha256', Buffer.from(input), { key: other, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`; }, 'bad_signature'],
    ['an altered payload', () => { const [h, , s] = jws(esHeader(), base()).split('.'); return `${h}.${b64({ ...base(), sub: 'admin' })}.${s}`; }, 'bad_signature'],
    ['a DER signature', () => { const input = `${b64(esHeader())}.${b64(base())}`; return `${input}.${sign('sha256', Buffer.from(input), es.privateKey).toString('base64url')}`; }, 'bad_signature'],
    ['a truncated signature', () => jws(esHeader(), base()).slice(0, -4), 'bad_signature'],
    ['typ JWT', () => jws({ ...esHeader(), typ: 'JWT' }, base()), 'wrong_type'],
    ['no typ', () => jws({ alg: 'ES256', kid: es.kid }, base()), 'wrong_type'],
    ['another issuer', () => jws(esHeader(), { ...base(), iss: 'https://evil.example' }), 'wrong_issuer'],
    ['no issuer', () => { const { iss: _iss, ...rest } = base(); return jws(esHeader(), rest); }, 'wrong_issuer'],
    ['no jti', () => { const { jti: _jti, ...rest } = base(); return jws(esHeader(), rest); }, 'invalid_claims'],
    ['no exp', () => { const { exp: _exp, ...rest } = base(); return jws(esHeader(), rest); }, 'invalid_claims'],
    ['exp as a string', () => jws(esHeader(), { ...base(), exp: String(t0 + 300) }), 'invalid_claims'],
    ['iat as a string', () => jws(esHeader(), { ...base(), iat: 'now' }), 'not_yet_valid'],
    ['exp exactly now', () => jws(esHeader(), { ...base(), exp: t0 + 10 }), 'expired'],
    ['nbf in the future', () => jws(esHeader(), { ...base(), nbf: t0 + 11 }), 'not_yet_valid'],
    ['a claims set that is an array', () => jws(esHeader(), [base()]), 'malformed'],
    ['a claims set that is not JSON', () => jws(esHeader(), 'not json'), 'malformed'],
    ['an array audience', () => jws(esHeader(), { ...base(), aud: ['https://api.example'] }), 'invalid_claims'],
    ['a header that is not JSON', () => `${b64('{alg')}.${b64(base())}.${b64('sig')}`, 'malformed'],
    ['four segments', () => `${jws(esHeader(), base())}.x`, 'malformed'],
  ];

  it.each(cases)('%s', async (_, make, expected) => {
    const token = make();
    const now = t0 + 10;
    const verdict = await verifyPassport(token, keyring, issuer, now);
    if (expected === true) expect(verdict).toMatchObject({ ok: true, claims: { sub: 'p' } });
    else expect(verdict).toEqual({ ok: false, reason: expected });
    // jose's verdict differs only where we are stricter on purpose: an array aud (Passports have one audience).
    if (_ !== 'an array audience') expect(await joseAccepts(token, now)).toBe(expected === true);
    // Token exchange parses the payload first (to read iss) and hands it over: the same verdict.
    const parsed = unverifiedJws(token);
    if (parsed) expect(await verifyPassport(parsed, keyring, issuer, now)).toEqual(verdict);
    else expect(verdict).toEqual({ ok: false, reason: 'malformed' });
  });

  it('a Passport minted by the server verifies until its exp', async () => {
    const { token } = await mintPassport(keyring, 'ES256', { issuer, subject: 'a', clientId: 'a', audience: 'https://api.example', scopes: ['x'], ttlSeconds: 300, receipt: 'r', now: t0 });
    expect((await verifyPassport(token, keyring, issuer, t0 + 299)).ok).toBe(true);
    expect(await verifyPassport(token, keyring, issuer, t0 + 300)).toEqual({ ok: false, reason: 'expired' });
  });

  it('a person\'s identity claims never replace a protocol claim, and a __proto__ claim is not carried', async () => {
    const identity = JSON.parse('{"email":"ada@example.test","orig_sub":"u-1","sub":"forged","exp":9999999999,"jti":"forged","scope":"admin","__proto__":{"admin":true}}') as Record<string, unknown>;
    const { token, claims } = await mintPassport(keyring, 'ES256', {
      issuer, subject: 'p-ada', clientId: 'web', audience: 'https://api.example', scopes: ['x'], identity,
      authentication: { authTime: t0 - 10, acr: 'urn:acr:mfa', amr: ['pwd', 'otp'] }, act: { sub: 'agent' }, delegationId: 'd-1', ttlSeconds: 300, receipt: 'r', now: t0,
    });
    const check = await verifyPassport(token, keyring, issuer, t0);
    if (!check.ok) throw new Error(check.reason);
    for (const seen of [claims, check.claims]) {
      expect(seen).toMatchObject({ sub: 'p-ada', exp: t0 + 300, scope: 'x', email: 'ada@example.test', orig_sub: 'u-1', auth_time: t0 - 10, acr: 'urn:acr:mfa', amr: ['pwd', 'otp'], act: { sub: 'agent' }, did: 'd-1', receipt: 'r' });
      expect(seen.jti).not.toBe('forged');
      expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
      expect(Object.hasOwn(seen, '__proto__')).toBe(false);
      expect((seen as { admin?: unknown }).admin).toBeUndefined();
    }
  });
});

describe('a Passport verified before', () => {
  it('is checked again in full but its signature: expiry, and its key leaving the JWKS, still end it', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const keyring = createKeyring(store.keys, { retentionSeconds: 100, reloadSeconds: 0 });
      await keyring.ensureKeys(t0);
      const { token } = await mintPassport(keyring, 'ES256', { issuer, subject: 'a', clientId: 'a', audience: 'https://api.example', scopes: ['x'], ttlSeconds: 600, receipt: 'r', now: t0 });
      expect((await verifyPassport(token, keyring, issuer, t0)).ok).toBe(true);
      expect((await verifyPassport(token, keyring, issuer, t0 + 1)).ok).toBe(true);
      expect(await verifyPassport(token, keyring, 'https://other.example', t0 + 1)).toEqual({ ok: false, reason: 'wrong_issuer' });
      // The next key takes over at t0 + 10; the old one is published until t0 + 110.
      await keyring.rotate(t0 + 5, 5, ['ES256']);
      expect((await verifyPassport(token, keyring, issuer, t0 + 109)).ok).toBe(true);
      expect(await verifyPassport(token, keyring, issuer, t0 + 110)).toEqual({ ok: false, reason: 'unknown_key' });
      expect(await verifyPassport(token, keyring, issuer, t0 + 600)).toEqual({ ok: false, reason: 'unknown_key' });
      // Same header and payload with another signature: not the token that was verified.
      const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(64, 1).toString('base64url')}`;
      expect(await verifyPassport(forged, keyring, issuer, t0 + 1)).toEqual({ ok: false, reason: 'bad_signature' });
    } finally {
      await store.close();
    }
  });
});
