// Client secrets: configs hold only hashes; generated secrets use sha256, chosen ones scrypt.
import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, verifySecret } from '../../../src/clients/secrets.ts';

describe('client secrets', () => {
  it('generateSecret gives a 256-bit secret and a sha256 hash that verifies', () => {
    const { secret, hash } = generateSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(hash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain(secret);
    expect(verifySecret(secret, hash)).toBe(true);
  });

  it('every generated secret is different', () => {
    const secrets = new Set(Array.from({ length: 20 }, () => generateSecret().secret));
    expect(secrets.size).toBe(20);
  });

  it('a wrong secret is refused', () => {
    const { secret, hash } = generateSecret();
    expect(verifySecret(generateSecret().secret, hash)).toBe(false);
    expect(verifySecret(`${secret}x`, hash)).toBe(false);
    expect(verifySecret(secret.slice(0, -1), hash)).toBe(false);
    expect(verifySecret('', hash)).toBe(false);
  });

  it('a short (person-chosen) secret gets a salted scrypt hash that verifies', () => {
    const hash = hashSecret('post-secret');
    expect(hash).toMatch(/^scrypt:16384:8:1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(verifySecret('post-secret', hash)).toBe(true);
    expect(verifySecret('post-secreT', hash)).toBe(false);
    expect(hashSecret('post-secret')).not.toBe(hash);
  });

  it('the sha256/scrypt boundary is 32 characters', () => {
    expect(hashSecret('a'.repeat(31))).toMatch(/^scrypt:/);
    expect(hashSecret('a'.repeat(32))).toMatch(/^sha256:/);
  });

  it('no stored hash never verifies, not even against the decoy', () => {
    expect(verifySecret('x', undefined)).toBe(false);
    expect(verifySecret('consulate-decoy', undefined)).toBe(false);
    expect(verifySecret(generateSecret().secret, undefined)).toBe(false);
  });

  it.each(['', 'hunter2', 'sha256:', 'sha256:a:b', 'md5:abc', 'scrypt:16384:8:1:salt'])('a malformed stored hash %j never verifies', (stored) => {
    expect(verifySecret('hunter2', stored)).toBe(false);
  });
});
