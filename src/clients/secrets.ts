// Client secrets are configured only as hashes. Secrets Consulate generates carry 256 bits of
// entropy, so a fast SHA-256 is the right storage (a slow KDF would cap token throughput);
// a secret chosen by a person is hashed with scrypt instead. Comparison is constant-time.
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const scryptDefaults = { N: 16384, r: 8, p: 1 };
const minFastSecretLength = 32;

export function generateSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

/** sha256 for long (generated) secrets, scrypt for anything shorter. */
export function hashSecret(secret: string): string {
  if (secret.length >= minFastSecretLength) return `sha256:${createHash('sha256').update(secret).digest('base64url')}`;
  const salt = randomBytes(16);
  const { N, r, p } = scryptDefaults;
  const hash = scryptSync(secret, salt, 32, { N, r, p });
  return `scrypt:${N}:${r}:${p}:${salt.toString('base64url')}:${hash.toString('base64url')}`;
}

// A fixed hash to compare against when the client is unknown, so timing does not tell.
const decoy = `sha256:${createHash('sha256').update('consulate-decoy').digest('base64url')}`;

export function verifySecret(secret: string, stored: string | undefined): boolean {
  const parts = (stored ?? decoy).split(':');
  let expected: Buffer;
  let actual: Buffer;
  if (parts[0] === 'sha256' && parts.length === 2) {
    expected = Buffer.from(parts[1] as string, 'base64url');
    actual = createHash('sha256').update(secret).digest();
  } else if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, N, r, p, salt, hash] = parts as [string, string, string, string, string, string];
    expected = Buffer.from(hash, 'base64url');
    actual = scryptSync(secret, Buffer.from(salt, 'base64url'), expected.length, { N: Number(N), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  } else {
    return false;
  }
  return expected.length === actual.length && timingSafeEqual(expected, actual) && stored !== undefined;
}
