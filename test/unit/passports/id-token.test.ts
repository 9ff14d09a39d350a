// ID tokens: signed with the client's algorithm by the current key, verified here with jose against
// the keyring's JWKS; at_hash computed independently (Web Crypto); id_token_hint checks for logout.
import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintIdToken, verifyIdTokenHint, type IdTokenRequest } from '../../../src/passports/id-token.ts';
import { createKeyring, type Keyring } from '../../../src/passports/keys.ts';
import { mintPassport } from '../../../src/passports/mint.ts';
import type { Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

const t0 = 1_800_000_000;
const issuer = 'https://id.example.test';

const request = (overrides: Partial<IdTokenRequest> = {}): IdTokenRequest => ({
  issuer,
  client: { client_id: 'web-app', id_token_signed_response_alg: 'RS256' },
  grant: { sub: 'person-1', identityScopes: ['openid', 'email'], authTime: t0 - 30, acr: 'urn:acr:mfa', amr: ['pwd', 'otp'], sid: 'session-1' },
  claims: { sub: 'someone-else', orig_iss: 'https://upstream.example', orig_sub: 'u-1', email: 'ada@example.test', email_verified: true, name: 'Ada', iss: 'https://evil.example' },
  nonce: 'n-0S6_WzA2Mj',
  accessToken: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
  ttlSeconds: 300,
  now: t0,
  ...overrides,
});

async function independentAtHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
  return Buffer.from(digest.slice(0, digest.length / 2)).toString('base64url');
}

describe('ID tokens', () => {
  let store: Store;
  let keyring: Keyring;
  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    keyring = createKeyring(store.keys, { retentionSeconds: 3600, reloadSeconds: 0 });
    await keyring.ensureKeys(t0);
  });
  afterEach(async () => store.close());

  const verify = async (token: string, alg: 'RS256' | 'ES256', now = t0) =>
    jwtVerify(token, createLocalJWKSet(await keyring.jwks(now)), { issuer, audience: 'web-app', typ: 'JWT', algorithms: [alg], currentDate: new Date(now * 1000) });

  it('RS256 by default: protocol claims, nonce, authentication facts, at_hash', async () => {
    const input = request();
    const { token } = await mintIdToken(keyring, input);
    const { payload, protectedHeader } = await verify(token, 'RS256');
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: (await keyring.signingKey('RS256', t0)).kid });
    expect(payload).toMatchObject({
      iss: issuer,
      sub: 'person-1',
      aud: 'web-app',
      azp: 'web-app',
      iat: t0,
      exp: t0 + 300,
      auth_time: t0 - 30,
      nonce: 'n-0S6_WzA2Mj',
      acr: 'urn:acr:mfa',
      amr: ['pwd', 'otp'],
      sid: 'session-1',
    });
    expect(payload.at_hash).toBe(await independentAtHash(input.accessToken));
  });

  it('ES256 when the client registered it', async () => {
    const { token } = await mintIdToken(keyring, request({ client: { client_id: 'web-app', id_token_signed_response_alg: 'ES256' } }));
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    const { payload } = await verify(token, 'ES256');
    expect(payload.at_hash).toBe(await independentAtHash(request().accessToken));
  });

  it('releases claims by scope only, and none of them replaces a protocol claim', async () => {
    const { payload } = await verify((await mintIdToken(keyring, request())).token, 'RS256');
    expect(payload).toMatchObject({ email: 'ada@example.test', email_verified: true, orig_iss: 'https://upstream.example', orig_sub: 'u-1' });
    expect(payload.name).toBeUndefined();
    expect(payload.sub).toBe('person-1');
    expect(payload.iss).toBe(issuer);

    const profile = await verify((await mintIdToken(keyring, request({ grant: { ...request().grant, identityScopes: ['openid', 'profile'] } }))).token, 'RS256');
    expect(profile.payload.name).toBe('Ada');
    expect(profile.payload.email).toBeUndefined();
  });

  it('no nonce, acr or amr when there are none (a refreshed ID token)', async () => {
    const grant = { sub: 'person-1', identityScopes: ['openid'], authTime: t0 - 30, sid: 'session-1' };
    const { payload } = await verify((await mintIdToken(keyring, request({ grant, nonce: undefined }))).token, 'RS256');
    expect(payload).not.toHaveProperty('nonce');
    expect(payload).not.toHaveProperty('acr');
    expect(payload).not.toHaveProperty('amr');
    expect(payload.auth_time).toBe(t0 - 30);
  });

  describe('id_token_hint', () => {
    const deps = (now: number) => ({ keyring, issuer, now: () => now });

    it('gives sub, client and sid of our ID token, also once it has expired', async () => {
      const { token } = await mintIdToken(keyring, request());
      expect(await verifyIdTokenHint(deps(t0 + 10), token)).toEqual({ sub: 'person-1', clientId: 'web-app', sid: 'session-1' });
      expect(await verifyIdTokenHint(deps(t0 + 3000), token)).toEqual({ sub: 'person-1', clientId: 'web-app', sid: 'session-1' });
    });

    it('refuses a Passport, another issuer, a tampered token, a foreign key and garbage', async () => {
      const passport = await mintPassport(keyring, 'ES256', { issuer, subject: 'person-1', clientId: 'web-app', audience: issuer, scopes: ['openid'], ttlSeconds: 60, receipt: 'r', now: t0 });
      expect(await verifyIdTokenHint(deps(t0), passport.token)).toBeUndefined();

      const other = await mintIdToken(keyring, request({ issuer: 'https://other.example' }));
      expect(await verifyIdTokenHint(deps(t0), other.token)).toBeUndefined();

      const { token } = await mintIdToken(keyring, request());
      const [header, , signature] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ iss: issuer, sub: 'admin', aud: 'web-app', sid: 'session-1' })).toString('base64url');
      expect(await verifyIdTokenHint(deps(t0), `${header}.${forged}.${signature}`)).toBeUndefined();

      const foreign = await generateKeyPair('RS256');
      const kid = (await keyring.signingKey('RS256', t0)).kid;
      const foreignToken = await new SignJWT({ sub: 'person-1', aud: 'web-app' }).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).setIssuer(issuer).sign(foreign.privateKey);
      expect(await verifyIdTokenHint(deps(t0), foreignToken)).toBeUndefined();

      for (const garbage of ['', 'not-a-jwt', 'a.b.c', 'x'.repeat(20_000)]) expect(await verifyIdTokenHint(deps(t0), garbage)).toBeUndefined();
    });
  });
});
