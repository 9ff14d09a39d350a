// Random opaque identifiers (codes, states, session ids, request ids) and the hash under which the
// store keeps them: a stolen database holds no usable value. Time-ordered ids for what is indexed as
// it is created (receipts, delegations, Passport jtis). Pure; imports nothing internal.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** SHA-256 of an opaque value, base64url: what the store keeps instead of the value. */
export const hashId = (value: string): string => createHash('sha256').update(value).digest('base64url');
/** 256 random bits, base64url. */
export const randomId = (): string => randomBytes(32).toString('base64url');

/**
 * A time-ordered UUIDv7 (RFC 9562 §5.7): ids made one after another sort together, so the index
 * they go into grows at its end instead of at a random page. The random part comes from
 * randomUUID(), which draws from a cached entropy pool (a fresh randomBytes() call per id showed in
 * issuance profiles): its version-4 layout already has the variant bits of §5.7, so only the 48-bit
 * time and the version nibble are written over it (74 random bits remain).
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const random = randomUUID();
  const time = Math.trunc(nowMs).toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
