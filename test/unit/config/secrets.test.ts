// Client secrets: configs hold only hashes; generated secrets use sha256, chosen ones scrypt.
import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, secretDecoy, verifySecret } from '../../../src/clients/secrets.ts';

describe('client secrets', () => {
  it('generateSecret gives a 256-bit secret and a sha256 hash that verifies', async () => {
    const { secret, hash } = generateSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(hash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain(secret);
    expect(await verifySecret(secret, hash)).toBe(true);
  });

  it('every generated secret is different', async () => {
    const secrets = new Set(Array.from({ length: 20 }, () => generateSecret().secret));
    expect(secrets.size).toBe(20);
  });

  it('a wrong secret is refused', async () => {
    const { secret, hash } = generateSecret();
    expect(await verifySecret(generateSecret().secret, hash)).toBe(false);
    expect(await verifySecret(`${secret}x`, hash)).toBe(false);
    expect(await verifySecret(secret.slice(0, -1), hash)).toBe(false);
    expect(await verifySecret('', hash)).toBe(false);
  });

  it('a short (person-chosen) secret gets a salted scrypt hash that verifies', async () => {
    const hash = hashSecret('post-secret');
    expect(hash).toMatch(/^scrypt:16384:8:1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(await verifySecret('post-secret', hash)).toBe(true);
    expect(await verifySecret('post-secreT', hash)).toBe(false);
    expect(hashSecret('post-secret')).not.toBe(hash);
  });

  it('the sha256/scrypt boundary is 32 characters', async () => {
    expect(hashSecret('a'.repeat(31))).toMatch(/^scrypt:/);
    expect(hashSecret('a'.repeat(32))).toMatch(/^sha256:/);
  });

  it('no stored hash never verifies, not even against the decoy', async () => {
    expect(await verifySecret('x', undefined)).toBe(false);
    expect(await verifySecret('consulate-decoy', undefined)).toBe(false);
    expect(await verifySecret(generateSecret().secret, undefined)).toBe(false);
  });

  it.each(['', 'hunter2', 'sha256:', 'sha256:a:b', 'md5:abc', 'scrypt:16384:8:1:salt'])('a malformed stored hash %j never verifies', async (stored) => {
    expect(await verifySecret('hunter2', stored)).toBe(false);
  });
});

describe('the decoy every failed check pays for', () => {
  it('is the costliest scrypt configured, or SHA-256 when none is', async () => {
    const cheap = 'scrypt:1024:8:1:c2FsdA:aGFzaA';
    const costly = 'scrypt:32768:8:1:c2FsdA:aGFzaA';
    expect(secretDecoy([hashSecret('x'.repeat(40)), undefined])).toMatch(/^sha256:/);
    expect(secretDecoy([cheap, costly, hashSecret('x'.repeat(40))])).toMatch(/^scrypt:32768:8:1:/);
    // Two decoys never share a salt: nothing to precompute.
    expect(secretDecoy([costly])).not.toBe(secretDecoy([costly]));
    // A decoy never verifies anything.
    expect(await verifySecret('anything', undefined, secretDecoy([costly]))).toBe(false);
  });
});
