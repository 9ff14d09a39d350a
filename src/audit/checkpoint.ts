// Signed checkpoints: "record `seq` of this issuer's receipt chain has hash `hash`", signed as a JWT
// with a Passport signing key. Since every hash covers the one before it, a checkpoint vouches for
// the whole chain up to `seq`: an exported segment that hashes up to it can be checked offline with
// nothing but the JWKS.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { signJwt } from '../passports/sign.ts';
import type { SigningKey } from '../passports/keys.ts';

export const checkpointType = 'receipt-checkpoint+jwt';

export type Checkpoint = { iss: string; iat: number; seq: number; hash: string };

export function signCheckpoint(key: SigningKey, issuer: string, head: { seq: number; hash: string }, now: number): string {
  return signJwt(key, checkpointType, { iss: issuer, iat: now, seq: head.seq, hash: head.hash, hash_alg: 'sha-256' });
}

/** Verifies signature, typ and issuer against a JWKS; throws when any fails. */
export async function verifyCheckpoint(jws: string, jwks: JSONWebKeySet, issuer?: string): Promise<Checkpoint> {
  const { payload } = await jwtVerify(jws, createLocalJWKSet(jwks), {
    typ: checkpointType,
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    requiredClaims: ['iss', 'iat'],
    ...(issuer ? { issuer } : {}),
  });
  const { seq, hash, iss, iat } = payload as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new Error('the checkpoint names no valid seq and hash');
  return { iss: iss as string, iat: iat as number, seq, hash };
}
