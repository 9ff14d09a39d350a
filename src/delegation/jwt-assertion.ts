// Checks a JWT authorization grant (RFC 7523 §3) or an ID-JAG (draft-ietf-oauth-identity-assertion-
// authz-grant §4.4) presented by an authenticated client:
// 1 decode (untrusted) to pick the kind (typ) and the issuer (iss)  2 the issuer is trusted, named
// in the client's delegation.jwt_bearer_issuers and accepts that kind  3 signature with its keys,
// asymmetric algorithms only; iss, aud (our issuer or token endpoint), exp, nbf  4 sub, jti, iat,
// lifetime  5 an ID-JAG names the presenting client (client_id)  6 jti single use, per issuer
// (useAssertionOnce). Returns a tagged reason instead of throwing; the caller maps every reason
// to one invalid_grant.
// Maps no claims and links no person (jwt-bearer.ts does).
import { isSoleAudience } from '../oauth/audience.ts';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { assertionAlgorithms } from '../clients/assertion.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { ReplayStore } from '../store/ports.ts';
import type { AssertionIssuer, AssertionIssuers } from './assertion-issuers.ts';

export type AssertionKind = 'jwt-bearer' | 'id-jag';

export type VerifiedAssertion = { issuer: AssertionIssuer; kind: AssertionKind; claims: JWTPayload & { sub: string; exp: number; jti: string } };

export type AssertionReason =
  | 'malformed'
  | 'wrong_typ'
  | 'untrusted_issuer'
  | 'own_issuer'
  | 'issuer_not_allowed'
  | 'kind_not_accepted'
  | 'bad_signature'
  | 'keys_unavailable'
  | 'bad_claims'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'too_long_lived'
  | 'client_id_mismatch'
  | 'replayed';

export type AssertionCheck = ({ ok: true } & VerifiedAssertion) | { ok: false; reason: AssertionReason };

export type AssertionContext = {
  issuers: AssertionIssuers;
  replay: ReplayStore;
  /** Our issuer identifier. */
  issuer: string;
  clockSkewSeconds: number;
  now: number;
};

/** typ (RFC 8725 §3.11): compared without case and without an application/ prefix. */
function kindOf(typ: unknown): AssertionKind | undefined {
  if (typ === undefined) return 'jwt-bearer';
  if (typeof typ !== 'string') return undefined;
  const bare = typ.toLowerCase().replace(/^application\//, '');
  if (bare === 'oauth-id-jag+jwt') return 'id-jag';
  return bare === 'jwt' ? 'jwt-bearer' : undefined;
}

export async function checkJwtAssertion(assertion: string, client: ClientConfig, context: AssertionContext): Promise<AssertionCheck> {
  const { now, clockSkewSeconds: skew } = context;
  // 1.
  let typ: unknown;
  let iss: unknown;
  try {
    typ = decodeProtectedHeader(assertion).typ;
    iss = decodeJwt(assertion).iss;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const kind = kindOf(typ);
  if (!kind) return { ok: false, reason: 'wrong_typ' };
  if (typeof iss !== 'string') return { ok: false, reason: 'malformed' };

  // 2. Never our own (the draft's Cross-Domain Use: no access token for an ID-JAG the server issued itself).
  if (iss === context.issuer) return { ok: false, reason: 'own_issuer' };
  const trusted = context.issuers.withIssuer(iss);
  if (!trusted.length) return { ok: false, reason: 'untrusted_issuer' };
  const allowed = trusted.filter((issuer) => client.delegation?.jwt_bearer_issuers.includes(issuer.config.id));
  if (!allowed.length) return { ok: false, reason: 'issuer_not_allowed' };
  const issuer = allowed.find((candidate) => candidate.config.accepts.includes(kind));
  if (!issuer) return { ok: false, reason: 'kind_not_accepted' };

  // 3.
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(assertion, issuer.keys, {
      issuer: iss,
      audience: context.issuer,
      algorithms: assertionAlgorithms,
      requiredClaims: kind === 'id-jag' ? ['exp', 'sub', 'jti', 'iat', 'client_id'] : ['exp', 'sub', 'jti'],
      currentDate: new Date(now * 1000),
      clockTolerance: skew,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: error.claim === 'nbf' ? 'not_yet_valid' : error.claim === 'aud' && error.reason === 'check_failed' ? 'wrong_audience' : 'bad_claims' };
    if (error instanceof errors.JWKSTimeout || (error instanceof Error && 'code' in error && error.code === 'ERR_JOSE_GENERIC')) return { ok: false, reason: 'keys_unavailable' };
    return { ok: false, reason: 'bad_signature' };
  }

  // 4. RFC 7523 §3 items 2, 4, 6, 7; the issuer's own bound on lifetime. The audience is our issuer
  // identifier as its sole value, never the token endpoint URL (draft-ietf-oauth-rfc7523bis §4,
  // draft-ietf-oauth-identity-assertion-authz-grant).
  const { sub, jti, exp, iat } = claims;
  if (!isSoleAudience(claims.aud, context.issuer)) return { ok: false, reason: 'wrong_audience' };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) return { ok: false, reason: 'bad_claims' };
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) return { ok: false, reason: 'bad_claims' };
  if (typeof exp !== 'number') return { ok: false, reason: 'bad_claims' };
  if (iat !== undefined && iat > now + skew) return { ok: false, reason: 'not_yet_valid' };
  const max = issuer.config.max_lifetime_seconds;
  if (exp - now > max + skew || (iat !== undefined && exp - iat > max)) return { ok: false, reason: 'too_long_lived' };

  // 5. §4.4: the ID-JAG was issued to this client; a plain assertion naming a client must name this one.
  if ((kind === 'id-jag' || claims.client_id !== undefined) && claims.client_id !== client.client_id) return { ok: false, reason: 'client_id_mismatch' };

  return { ok: true, issuer, kind, claims: { ...claims, sub, jti, exp } };
}

/**
 * 6. RFC 7523 §3 item 7: used once, recorded until it expires, per issuer (a jti is unique per iss).
 * Separate, so that the caller spends the assertion only once its own checks have passed.
 */
export async function useAssertionOnce(verified: VerifiedAssertion, context: Pick<AssertionContext, 'replay' | 'clockSkewSeconds' | 'now'>): Promise<boolean> {
  const { claims } = verified;
  return context.replay.useOnce(`jwt_bearer:${verified.issuer.config.issuer}`, claims.jti, claims.exp + context.clockSkewSeconds, context.now);
}
