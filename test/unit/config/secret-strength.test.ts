// The entropy bound `consulate check` judges plain-text secrets by: length × log2(the character
// classes used), an upper bound; below 128 bits a secret is weak.
import { describe, expect, it } from 'vitest';
import { minSecretBits, secretBits } from '../../../src/config/secret-strength.ts';

describe('secretBits', () => {
  it('multiplies the length by log2 of the classes present', () => {
    expect(secretBits('aaaaaaaaaaaaaaaa')).toBeCloseTo(16 * Math.log2(26));
    expect(secretBits('Summer2024!')).toBeCloseTo(11 * Math.log2(26 + 26 + 10 + 33));
    expect(secretBits('0123456789')).toBeCloseTo(10 * Math.log2(10));
    expect(secretBits('')).toBe(0);
  });

  it('counts characters, not UTF-16 units, and non-ASCII as one more class', () => {
    expect(secretBits('ééé')).toBeCloseTo(3 * Math.log2(128));
    expect(secretBits('😀😀')).toBeCloseTo(2 * Math.log2(128));
  });

  it('human-chosen ones fall below the bar, generated ones clear it', () => {
    for (const weak of ['Summer2024!', 'hunter2hunter2', 'P@ssw0rd-2024', 'aaaaaaaaaaaaaaaa']) expect(secretBits(weak)).toBeLessThan(minSecretBits);
    // 32 random bytes as base64url (`consulate secret generate`), 16 as hex, and a long passphrase.
    for (const strong of ['g1aqkdcSlt3uobPzFTo2l3TvEw-_uOLwIu5FJ2DnlkY', '0123456789abcdef0123456789abcdef', 'correct horse battery staple']) expect(secretBits(strong)).toBeGreaterThanOrEqual(minSecretBits);
  });
});
