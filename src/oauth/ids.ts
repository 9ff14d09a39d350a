// Random opaque identifiers (codes, states, session ids, request ids) and the hash under which the
// store keeps them: a stolen database holds no usable value. Pure; imports nothing internal.
import { createHash, randomBytes } from 'node:crypto';

/** SHA-256 of an opaque value, base64url: what the store keeps instead of the value. */
export const hashId = (value: string): string => createHash('sha256').update(value).digest('base64url');
/** 256 random bits, base64url. */
export const randomId = (): string => randomBytes(32).toString('base64url');
