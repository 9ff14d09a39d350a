// Device flow user codes (RFC 8628 §6.1): 8 characters of the base-20 set BCDFGHJKLMNPQRSTVWXZ
// (letters only, no vowels: typed without modifier keys, never a word), shown in two groups of four (BCDF-GHJK). That is
// 20^8 ≈ 2^34.6 codes, enough only together with a limit on wrong entries (§5.1). What the person
// types is normalised before comparison: upper case, dashes and spaces dropped. Only the hash of
// the normalised code is stored. No I/O besides the random source.
import { randomInt } from 'node:crypto';
import { hashId } from '../oauth/ids.ts';

export const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';
export const userCodeLength = 8;

const wellFormed = new RegExp(`^[${userCodeAlphabet}]{${userCodeLength}}$`);

/** A new code, normalised (no dash). */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < userCodeLength; i++) code += userCodeAlphabet[randomInt(userCodeAlphabet.length)];
  return code;
}

/** How the code is shown: two groups of four, joined by a dash. */
export const displayUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/** The code as compared; undefined when what was typed cannot be a code at all. */
export function normaliseUserCode(input: string): string | undefined {
  const code = input.slice(0, 64).toUpperCase().replace(/[\s-]/g, '');
  return wellFormed.test(code) ? code : undefined;
}

export const hashUserCode = (code: string): string => hashId(`user_code:${code}`);
