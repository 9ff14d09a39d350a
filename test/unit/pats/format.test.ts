// The PAT format: prefix, 32 random base62 characters, a 6-character base62 CRC-32 of them. A
// scanner's regular expression matches every token we mint; a typo or forgery fails the checksum.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkPatFormat, checksumOf, crc32, newPatToken, patPattern } from '../../../src/pats/format.ts';

describe('personal access token format', () => {
  it('CRC-32 is the IEEE one zlib computes', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    for (const text of ['', 'a', 'csl', '0123456789ABCDEFGHIJKLMNOPQRSTUV']) expect(crc32(text)).toBe(zlibCrc32(text));
  });

  it('mints tokens the pattern matches and the checksum confirms, all different', () => {
    const tokens = Array.from({ length: 200 }, newPatToken);
    expect(new Set(tokens).size).toBe(200);
    for (const token of tokens) {
      expect(token).toMatch(patPattern);
      expect(token).toHaveLength(46);
      expect(checkPatFormat(token)).toBe('ok');
      expect(token.slice(40)).toBe(checksumOf(token.slice(8, 40)));
    }
  });

  it('a changed character fails the checksum; a wrong shape is malformed', () => {
    const random = 'abcdefghijklmnopqrstuvwxyzABCDEF';
    const token = `csl_pat_${random}${checksumOf(random)}`;
    expect(checkPatFormat(token)).toBe('ok');
    const swapped = `csl_pat_b${random.slice(1)}${checksumOf(random)}`;
    expect(checkPatFormat(swapped)).toBe('checksum');
    for (const bad of ['', 'csl_pat_', token.slice(0, -1), `${token}x`, token.replace('csl_pat_', 'csl_pax_'), `${token.slice(0, 20)}-${token.slice(21)}`]) expect(checkPatFormat(bad)).toBe('malformed');
    // The checksum is always six base62 characters (zero-padded).
    expect(checksumOf('')).toMatch(/^[0-9A-Za-z]{6}$/);
  });
});
