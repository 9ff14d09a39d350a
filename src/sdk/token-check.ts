// Verifies a Passport as a resource server: a JWT access token (RFC 9068 §4) against the issuer's
// published keys (jose's remote JWK set: fetched once, refetched on an unknown kid, rate-limited),
// or the claims an introspection answered (RFC 7662 §2.2). Both end in the same claim checks:
// iss, aud = this resource, exp/nbf with the skew, and the claim shapes the guard relies on.
// It returns a tagged reason and never throws for a bad token; only "could not ask" is `unavailable`.
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Passport, TokenReason } from './types.ts';

export type TokenCheck = { ok: true; claims: Passport } | { ok: false; reason: TokenReason | 'unavailable' };

export type TokenCheckOptions = {
  issuer: string;
  resource: string;
  algorithms: readonly string[];
  clockSkewSeconds: number;
  /** Where the keys are; resolved on first use (from the issuer's metadata unless configured). */
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
};

const maxTokenLength = 16384;
const jwsShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A compact JWS of bounded size (a JWE has five parts, an opaque token has no dots). */
export const isCompactJws = (token: string): boolean => token.length <= maxTokenLength && jwsShape.test(token);

/** Shaped like a JWS or JWE, valid or not (an unsigned JWT's signature part is empty): never sent off as opaque. */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){2}((\.[A-Za-z0-9_-]*){2})?$/.test(token);

// What the guard reads from a Passport, whichever way it came; everything else passes through.
const claimsSchema = z.looseObject({
  iss: z.string().optional(),
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  client_id: z.string().optional(),
  azp: z.string().optional(),
  scope: z.string().optional(),
  authorization_details: z.array(z.looseObject({ type: z.string(), actions: z.array(z.string()).optional(), locations: z.array(z.string()).optional() })).optional(),
  act: z.looseObject({ sub: z.string() }).optional(),
  cnf: z.looseObject({ jkt: z.string().optional() }).optional(),
  exp: z.number().optional(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
  jti: z.string().optional(),
});

/** Claim checks shared by both paths (jose already did them for a JWT; introspection answers get them here). */
export function checkClaims(raw: Record<string, unknown>, options: Pick<TokenCheckOptions, 'issuer' | 'resource' | 'clockSkewSeconds'>, now: number): TokenCheck {
  const parsed = claimsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'missing_claims' };
  const claims = parsed.data;
  if (claims.iss !== undefined && claims.iss !== options.issuer) return { ok: false, reason: 'wrong_issuer' };
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!audiences.includes(options.resource)) return { ok: false, reason: 'wrong_audience' };
  if (claims.exp !== undefined && claims.exp <= now - options.clockSkewSeconds) return { ok: false, reason: 'expired' };
  if (claims.nbf !== undefined && claims.nbf > now + options.clockSkewSeconds) return { ok: false, reason: 'not_yet_valid' };
  return { ok: true, claims: claims as Passport };
}

export function createJwtCheck(options: TokenCheckOptions): (token: string, now: number) => Promise<TokenCheck> {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () => {
    keys ??= options.jwksUri().then(
      (uri) => createRemoteJWKSet(new URL(uri), { [customFetch]: options.fetch }),
      (error: unknown) => {
        keys = undefined;
        throw error;
      },
    );
    return keys;
  };
  return async (token, now) => {
    // 1. Shape and algorithm before any key is fetched: never `none`, never a MAC (RFC 9068 §4, RFC 8725 §3.1).
    if (!isCompactJws(token)) return { ok: false, reason: 'malformed_token' };
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: 'malformed_token' };
    }
    if (typeof alg !== 'string' || !options.algorithms.includes(alg)) return { ok: false, reason: 'alg_not_allowed' };
    // 2. Signature by a published key, typ at+jwt (jose also accepts application/at+jwt), iss, aud, exp/nbf, RFC 9068 §2.2 claims.
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await keySet();
    } catch {
      return { ok: false, reason: 'unavailable' };
    }
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.resource,
        typ: 'at+jwt',
        algorithms: [...options.algorithms],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
        currentDate: new Date(now * 1000),
        clockTolerance: options.clockSkewSeconds,
      });
      // 3. The shapes the later checks rely on.
      return checkClaims(payload as Record<string, unknown>, options, now);
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  };
}

function reasonOf(error: unknown): TokenReason | 'unavailable' {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing' || error.reason === 'invalid') return 'missing_claims';
    if (error.claim === 'typ') return 'wrong_type';
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'not_yet_valid';
    return 'missing_claims';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) return 'malformed_token';
  // The key set could not be fetched (timeout, HTTP error, not JSON, not a JWK set).
  return 'unavailable';
}
