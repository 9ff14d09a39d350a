// Verifies a Passport this server issued: JWS signature by a published key of ours, typ at+jwt,
// alg allow-list, iss, exp/nbf/iat, required claims. Returns a tagged reason instead of throwing;
// callers decide what the wire sees (introspection only ever says active: false).
import { errors, jwtVerify } from 'jose';
import type { Keyring } from './keys.ts';
import type { PassportClaims } from './mint.ts';

export type PassportCheck =
  | { ok: true; claims: PassportClaims }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_type' | 'invalid_claims' };

const jwsShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const maxTokenLength = 16384;

/** A compact JWS of bounded size: anything else is not worth a signature check. */
export const isCompactJws = (token: string): boolean => token.length <= maxTokenLength && jwsShape.test(token);

export async function verifyPassport(token: string, keyring: Keyring, issuer: string, now: number): Promise<PassportCheck> {
  if (!isCompactJws(token)) return { ok: false, reason: 'malformed' };
  let unknownKey = false;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await keyring.verificationKey(header.kid, now) : undefined;
        if (!key || key.alg !== header.alg) {
          unknownKey = true;
          throw new Error('unknown key');
        }
        return key.publicKey;
      },
      {
        issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
        requiredClaims: ['sub', 'aud', 'client_id', 'jti', 'iat', 'exp'],
        currentDate: new Date(now * 1000),
        clockTolerance: 0,
      },
    );
    if (typeof payload.aud !== 'string' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') return { ok: false, reason: 'invalid_claims' };
    return { ok: true, claims: payload as unknown as PassportClaims };
  } catch (error) {
    if (unknownKey) return { ok: false, reason: 'unknown_key' };
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad_signature' };
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return { ok: false, reason: 'wrong_issuer' };
      if (error.claim === 'typ') return { ok: false, reason: 'wrong_type' };
      if (error.claim === 'nbf' || error.claim === 'iat') return { ok: false, reason: 'not_yet_valid' };
      return { ok: false, reason: 'invalid_claims' };
    }
    return { ok: false, reason: 'malformed' };
  }
}
