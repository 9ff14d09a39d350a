// Client secrets are configured only as hashes. Secrets Consulate generates carry 256 bits of
// entropy, so a fast SHA-256 is the right storage (a slow KDF would cap token throughput);
// a secret chosen by a person is hashed with scrypt instead. Comparison is constant-time.
// scrypt runs off the event loop (libuv's thread pool): a wrong secret must never stall the server.
// A failed check costs what checking the slowest hash in use costs (the decoy), whether the client
// is unknown, uses another method or has a fast hash: the answer's timing tells nothing.
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const scryptDefaults = { N: 16384, r: 8, p: 1 };
const minFastSecretLength = 32;
const maxmem = 64 * 1024 * 1024;

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

type Parsed = { kind: 'sha256'; expected: Buffer } | { kind: 'scrypt'; N: number; r: number; p: number; salt: Buffer; expected: Buffer };

/** Stored hashes come from the config: a few, each parsed once. */
const parsed = new Map<string, Parsed | undefined>();
function parse(stored: string): Parsed | undefined {
  if (parsed.has(stored)) return parsed.get(stored);
  if (parsed.size > 10_000) parsed.clear();
  const result = parseHash(stored);
  parsed.set(stored, result);
  return result;
}

function parseHash(stored: string): Parsed | undefined {
  const parts = stored.split(':');
  if (parts[0] === 'sha256' && parts.length === 2) return { kind: 'sha256', expected: Buffer.from(parts[1] as string, 'base64url') };
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, N, r, p, salt, hash] = parts as [string, string, string, string, string, string];
    return { kind: 'scrypt', N: Number(N), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64url'), expected: Buffer.from(hash, 'base64url') };
  }
  return undefined;
}

const scryptAsync = (secret: string, hash: Extract<Parsed, { kind: 'scrypt' }>) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, hash.salt, hash.expected.length, { N: hash.N, r: hash.r, p: hash.p, maxmem }, (error, key) => (error ? reject(error) : resolve(key))),
  );

async function matches(secret: string, hash: Parsed): Promise<boolean> {
  const actual = hash.kind === 'sha256' ? createHash('sha256').update(secret).digest() : await scryptAsync(secret, hash);
  return hash.expected.length === actual.length && timingSafeEqual(hash.expected, actual);
}

const sha256Decoy = `sha256:${createHash('sha256').update('consulate-decoy').digest('base64url')}`;

/**
 * The hash every failed check also pays for: scrypt with the costliest parameters among `hashes`
 * when any is scrypt, else SHA-256. Build it from every configured secret hash.
 */
export function secretDecoy(hashes: Iterable<string | undefined>): string {
  let costliest: Extract<Parsed, { kind: 'scrypt' }> | undefined;
  for (const stored of hashes) {
    const hash = stored === undefined ? undefined : parse(stored);
    if (hash?.kind === 'scrypt' && (!costliest || hash.N * hash.r * hash.p > costliest.N * costliest.r * costliest.p)) costliest = hash;
  }
  if (!costliest) return sha256Decoy;
  const { N, r, p } = costliest;
  return `scrypt:${N}:${r}:${p}:${randomBytes(16).toString('base64url')}:${randomBytes(32).toString('base64url')}`;
}

/** True when `secret` matches `stored`. A failure (or no `stored`: unknown client) costs at least a check of `decoy`. */
export async function verifySecret(secret: string, stored: string | undefined, decoy: string = sha256Decoy): Promise<boolean> {
  const hash = stored === undefined ? undefined : parse(stored);
  const ok = hash !== undefined && (await matches(secret, hash));
  if (ok) return true;
  const costlier = parse(decoy);
  if (costlier && (hash === undefined || (hash.kind === 'sha256' && costlier.kind === 'scrypt'))) await matches(secret, costlier);
  return false;
}
