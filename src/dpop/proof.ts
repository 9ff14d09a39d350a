// DPoP proof validation (RFC 9449 §4.3), shared by the server's endpoints and the resource-server
// guard (src/sdk/). Pure apart from signature math: the clock, the replay check and the nonce
// check come in as arguments; the result is a tagged reason, never a throw, so each caller maps it
// to its own wire error (invalid_dpop_proof, use_dpop_nonce) while the reason goes to the log.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose';

/** Asymmetric algorithms only (§4.3 step 5); never none, never HS*. Ed25519 is EdDSA's fully-specified name (RFC 9864), which current clients send. */
export const dpopAlgorithms = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'] as const;

export type DpopRequest = {
  /** The DPoP header values as received (exactly one is valid, §4.3 step 1). */
  proofs: readonly string[];
  method: string;
  /** The URL the request was meant for, from config (never from Host headers). */
  url: string;
  /** The access token presented with the proof, when there is one: `ath` must hash it. */
  accessToken?: string | undefined;
  now: number;
  /** Accepted clock difference for `iat`, both ways. */
  iatWindowSeconds: number;
  algorithms?: readonly string[];
  /** When the endpoint demands server nonces: true if the proof's nonce is current. */
  checkNonce?: ((nonce: string | undefined) => boolean) | undefined;
  /** Records the proof's jti; false when it was seen before (a replay). */
  useJti: (jkt: string, jti: string, expiresAt: number) => Promise<boolean>;
};

export type DpopReason =
  | 'multiple_proofs'
  | 'malformed'
  | 'wrong_typ'
  | 'alg_not_allowed'
  | 'private_key'
  | 'bad_signature'
  | 'missing_claims'
  | 'htm_mismatch'
  | 'htu_mismatch'
  | 'iat_out_of_window'
  | 'ath_mismatch'
  | 'ath_missing'
  | 'nonce_required'
  | 'replay';

export type DpopResult = { ok: true; jkt: string; jti: string; jwk: JWK } | { ok: false; reason: DpopReason };

const maxProofLength = 8192;
const fail = (reason: DpopReason): DpopResult => ({ ok: false, reason });

/** base64url(SHA-256(access token)): the `ath` claim (§4.2). */
export const accessTokenHashOf = (token: string): string => createHash('sha256').update(token, 'ascii').digest('base64url');

/** §4.3 step 9: scheme and host compared case-insensitively (URL does), default ports dropped, query and fragment ignored. */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

export async function verifyDpopProof(request: DpopRequest): Promise<DpopResult> {
  // 1. Exactly one proof.
  if (request.proofs.length !== 1) return fail('multiple_proofs');
  const proof = request.proofs[0] as string;
  if (proof.length > maxProofLength || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) return fail('malformed');
  // 2. Header: typ, an allowed asymmetric alg, a public jwk.
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return fail('malformed');
  }
  if (header.typ !== 'dpop+jwt') return fail('wrong_typ');
  const algorithms = request.algorithms ?? dpopAlgorithms;
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) return fail('alg_not_allowed');
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object') return fail('malformed');
  if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => Object.hasOwn(jwk, member))) return fail('private_key');
  // 3. Signature by that key; iat within the window (jose checks it against maxTokenAge both ways with the tolerance).
  let payload;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...algorithms],
      currentDate: new Date(request.now * 1000),
      requiredClaims: ['iat', 'jti', 'htm', 'htu'],
      maxTokenAge: request.iatWindowSeconds,
      clockTolerance: request.iatWindowSeconds,
    }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) return fail('bad_signature');
    if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
      // A claim that is absent or not a number is missing, not out of the window.
      if (error.reason === 'missing' || error.reason === 'invalid') return fail('missing_claims');
      return error.claim === 'iat' || error.claim === 'nbf' || error.claim === 'exp' ? fail('iat_out_of_window') : fail('missing_claims');
    }
    return fail('malformed');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') return fail('missing_claims');
  // jose accepts an iat up to the tolerance in the future; say so explicitly either way.
  if (Math.abs(request.now - iat) > request.iatWindowSeconds) return fail('iat_out_of_window');
  // 4. The request it was made for.
  if (htm !== request.method.toUpperCase()) return fail('htm_mismatch');
  const expected = normalizeHtu(request.url);
  if (expected === undefined || normalizeHtu(htu) !== expected) return fail('htu_mismatch');
  // 5. The access token it goes with.
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string') return fail('ath_missing');
    if (ath !== accessTokenHashOf(request.accessToken)) return fail('ath_mismatch');
  }
  // 6. The server's nonce, when demanded.
  if (request.checkNonce && !request.checkNonce(typeof nonce === 'string' ? nonce : undefined)) return fail('nonce_required');
  // 7. Never seen before (last: a proof refused above must not use up its jti).
  const jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
  if (!(await request.useJti(jkt, jti, iat + request.iatWindowSeconds))) return fail('replay');
  return { ok: true, jkt, jti, jwk: jwk as JWK };
}
