// PKCE (RFC 7636), S256 only: OAuth 2.1 requires it of every client and `plain` is refused.
import { createHash, timingSafeEqual } from 'node:crypto';

const challengeShape = /^[A-Za-z0-9_-]{43}$/;
const verifierShape = /^[A-Za-z0-9._~-]{43,128}$/; // §4.1

export type PkceChallengeCheck = { ok: true } | { ok: false; description: string };

export function checkPkceChallenge(challenge: string | undefined, method: string | undefined): PkceChallengeCheck {
  if (challenge === undefined) return { ok: false, description: 'code_challenge is required (PKCE)' };
  if (method !== 'S256') return { ok: false, description: 'code_challenge_method must be S256' };
  if (!challengeShape.test(challenge)) return { ok: false, description: 'code_challenge must be a base64url SHA-256 hash' };
  return { ok: true };
}

export function verifyPkce(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !verifierShape.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
