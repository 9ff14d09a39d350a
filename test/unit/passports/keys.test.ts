// The keyring's timeline with a fixed clock: first keys sign at once, a rotated key is published
// before it signs, a retired key stays published for the retention window, then leaves.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyring, type Keyring } from '../../../src/passports/keys.ts';
import { mintPassport } from '../../../src/passports/mint.ts';
import { verifyPassport } from '../../../src/passports/verify.ts';
import type { Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

const t0 = 1_800_000_000;
const retention = 3630;

describe('keyring', () => {
  let store: Store;
  let keyring: Keyring;
  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    keyring = createKeyring(store.keys, { retentionSeconds: retention, reloadSeconds: 0 });
    await keyring.ensureKeys(t0);
  });
  afterEach(async () => store.close());

  const kids = async (now: number) => (await keyring.jwks(now)).keys.map((k) => k.kid);

  it('a fresh install has one signing key per algorithm, signing at once', async () => {
    const es = await keyring.signingKey('ES256', t0);
    const rs = await keyring.signingKey('RS256', t0);
    expect((await kids(t0)).sort()).toEqual([es.kid, rs.kid].sort());
    await keyring.ensureKeys(t0 + 10);
    expect(await kids(t0 + 10)).toHaveLength(2);
  });

  it('a clock that steps back before the first key\'s start still signs, with a key the JWKS publishes then', async () => {
    const first = await keyring.signingKey('ES256', t0);
    const earlier = await keyring.signingKey('ES256', t0 - 600);
    expect(earlier.kid).toBe(first.kid);
    expect(await kids(t0 - 600)).toContain(first.kid);
  });

  it('rotation: next key published first, signs after the delay, old key retained then dropped', async () => {
    const old = await keyring.signingKey('ES256', t0);
    const [next] = await keyring.rotate(t0 + 100, 600, ['ES256']);
    expect(await kids(t0 + 100)).toContain(next?.kid);
    expect((await keyring.signingKey('ES256', t0 + 699)).kid).toBe(old.kid);
    expect((await keyring.signingKey('ES256', t0 + 700)).kid).toBe(next?.kid);
    expect(await kids(t0 + 700 + retention - 1)).toContain(old.kid);
    expect(await kids(t0 + 700 + retention)).not.toContain(old.kid);
    expect(await keyring.verificationKey(old.kid, t0 + 700 + retention)).toBeUndefined();
    const states = (await keyring.status(t0 + 800)).filter((k) => k.alg === 'ES256').map((k) => k.state);
    expect(states).toEqual(['retired (published)', 'current']);
  });

  it('a Passport verifies while its key is published and its exp is ahead, not after', async () => {
    const { token } = await mintPassport(keyring, 'ES256', {
      issuer: 'https://consulate.example', subject: 'a', clientId: 'a', audience: 'https://api.example', scopes: ['x'], ttlSeconds: 300, receipt: 'r', now: t0,
    });
    expect((await verifyPassport(token, keyring, 'https://consulate.example', t0 + 299)).ok).toBe(true);
    expect(await verifyPassport(token, keyring, 'https://consulate.example', t0 + 300)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyPassport(token, keyring, 'https://other.example', t0)).toEqual({ ok: false, reason: 'wrong_issuer' });
    expect(await verifyPassport(token.replace(/^[^.]+/, Buffer.from('{"alg":"ES256","kid":"nope","typ":"at+jwt"}').toString('base64url')), keyring, 'https://consulate.example', t0)).toEqual({ ok: false, reason: 'unknown_key' });
  });
});
