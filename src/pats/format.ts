// The personal access token format (pure): `csl_pat_` + 32 random base62 characters + a 6-character
// base62 CRC-32 of those 32. The prefix lets secret scanners find leaked tokens by pattern, and the
// checksum lets them (and us) tell a real-looking token from a typo or a random string offline:
// a token whose checksum does not match is refused without a database lookup. ~190 bits of entropy.
// No I/O; the random bytes are passed in where a caller needs determinism (tests).
import { randomInt } from 'node:crypto';

export const patPrefix = 'csl_pat_';
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const randomLength = 32;
const checksumLength = 6;
/** What a scanner matches: the prefix, 32 + 6 base62 characters, and nothing word-like after. */
export const patPattern = /^csl_pat_[0-9A-Za-z]{38}$/;

const crcTable = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, as zlib and GitHub's token checksum use) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = (crcTable[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
}

/** A number in base62, left-padded with zeros to `width` (a CRC-32 fits in 6 characters). */
function base62(value: number, width: number): string {
  let out = '';
  for (let v = value; v > 0; v = Math.floor(v / 62)) out = alphabet[v % 62] + out;
  return out.padStart(width, '0');
}

export const checksumOf = (random: string): string => base62(crc32(random), checksumLength);

/** A new token (from the CSPRNG, without modulo bias). */
export function newPatToken(): string {
  let random = '';
  for (let i = 0; i < randomLength; i++) random += alphabet[randomInt(62)];
  return `${patPrefix}${random}${checksumOf(random)}`;
}

/** Whether a string looks like a PAT at all (its prefix): such a token is a PAT or nothing. */
export const looksLikePat = (token: string): boolean => token.startsWith(patPrefix);

/** Offline check: the shape and the checksum. `malformed` or `checksum` means no lookup is needed. */
export function checkPatFormat(token: string): 'ok' | 'malformed' | 'checksum' {
  if (!patPattern.test(token)) return 'malformed';
  const random = token.slice(patPrefix.length, patPrefix.length + randomLength);
  return token.slice(patPrefix.length + randomLength) === checksumOf(random) ? 'ok' : 'checksum';
}
