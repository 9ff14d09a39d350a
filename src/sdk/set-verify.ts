// Verifies a Security Event Token (RFC 8417) before anything in it is believed: a compact JWS typed
// `secevent+jwt` (SSF 1.0 §4.1.1), signed by a key of the transmitter's JWKS with an asymmetric
// algorithm, from the transmitter (`iss`) to this stream (`aud`), with a `jti`, an `iat` and an
// `events` object, and without `sub` or `exp` (SSF 1.0 §4.1.2, §4.1.7). A failure is the RFC 8935
// §2.3 error code a receiver answers with (invalid_request, invalid_key, invalid_issuer,
// invalid_audience) and a description that never repeats the SET.
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';

export type SetClaims = { jti: string; iat: number; iss: string; aud: string | string[]; txn?: string; sub_id?: Record<string, unknown>; events: Record<string, Record<string, unknown>> };

export type SetCheck = { ok: true; claims: SetClaims } | { ok: false; err: 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience'; description: string };

const algorithms = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
const maxSetLength = 16384;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export async function verifySet(set: string, keys: JWTVerifyGetKey, expected: { issuer: string; audience: string }): Promise<SetCheck> {
  if (set.length > maxSetLength || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(set)) return { ok: false, err: 'invalid_request', description: 'not a compact JWS' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(set, keys, { issuer: expected.issuer, audience: expected.audience, typ: 'secevent+jwt', algorithms }));
  } catch (error) {
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return { ok: false, err: 'invalid_issuer', description: 'the SET is not from the expected transmitter' };
      if (error.claim === 'aud') return { ok: false, err: 'invalid_audience', description: 'the SET is not for this stream' };
      return { ok: false, err: 'invalid_request', description: `the SET's ${error.claim} is invalid` };
    }
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JOSEAlgNotAllowed) return { ok: false, err: 'invalid_key', description: 'the SET is not signed by a key of the transmitter' };
    if (error instanceof errors.JWKSTimeout || (error instanceof Error && !(error instanceof errors.JOSEError))) throw error;
    return { ok: false, err: 'invalid_request', description: 'the SET is malformed' };
  }
  // SSF 1.0 §4.1: no `sub` (the subject is `sub_id`) and no `exp`; RFC 8417 §2.2: jti, iat, events.
  if (payload.sub !== undefined || payload.exp !== undefined) return { ok: false, err: 'invalid_request', description: 'a SET carries no sub and no exp' };
  if (typeof payload.jti !== 'string' || payload.jti === '' || typeof payload.iat !== 'number') return { ok: false, err: 'invalid_request', description: 'the SET lacks jti or iat' };
  const events = payload.events;
  if (!isObject(events) || Object.keys(events).length === 0 || !Object.values(events).every(isObject)) return { ok: false, err: 'invalid_request', description: 'the SET has no events object' };
  if (payload.sub_id !== undefined && !isObject(payload.sub_id)) return { ok: false, err: 'invalid_request', description: 'sub_id is not an object' };
  return { ok: true, claims: payload as unknown as SetClaims };
}
