// Verifies an upstream IdP's JWT presented as a token exchange subject token (RFC 8693 §2.1):
// 1 which upstream trusted for exchange issued it (its issuer exactly; at an Entra multi-tenant
// authority the tenant's issuer, per the template, `tid` and allowed_tenants)  2 whether the
// exchanging client may use that upstream  3 signature by the upstream's published keys, asymmetric
// algorithms only (RFC 8725 §3.1), iss, exp (required), nbf, iat, with a small clock tolerance
// 4 what it is: an ID token (aud: Consulate's client id there or one of id_token_audiences; never
// typ at+jwt) or an access token (aud among access_token_audiences; never an ID token, RFC 9068 §4),
// never another kind of JWT, never one already delegated (`act`, RFC 8693 §4.1).
// Returns the claims as the upstream wrote them, or a tagged reason; never maps or stores them.
// Network trouble throws UpstreamError.
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { UpstreamConfig } from '../config/schema.ts';
import { UpstreamError } from './connector.ts';
import { expectedTenantIssuer, isMultiTenantAuthority, issuerTemplate } from './entra-tenants.ts';
import { upstreamKeys } from './upstream-keys.ts';

export const upstreamTokenAlgorithms = ['RS256', 'PS256', 'ES256', 'EdDSA'];
export const upstreamClockToleranceSeconds = 30;

/** What the caller was told the token is (RFC 8693 §3): `jwt` takes either kind. */
export type WantedForm = 'id_token' | 'access_token' | 'jwt';

export type VerifiedUpstreamToken = {
  upstream: UpstreamConfig;
  form: 'id_token' | 'access_token' | 'introspected';
  /** The verified `iss` (for Entra multi-tenant: the tenant's issuer): becomes orig_iss. */
  issuer: string;
  /** As the upstream wrote them: only its mapping rule set reads them. */
  claims: Readonly<Record<string, unknown>>;
  exp: number;
};

export type UpstreamTokenReason =
  | 'malformed' | 'tenant_not_allowed' | 'upstream_not_allowed' | 'alg_not_allowed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid'
  | 'invalid_claims' | 'wrong_type' | 'audience' | 'id_token_as_access_token' | 'access_token_as_id_token' | 'already_delegated' | 'inactive';

export type UpstreamTokenCheck = { ok: true; token: VerifiedUpstreamToken } | { ok: false; reason: UpstreamTokenReason; upstream?: string | undefined };

export type ExchangeTrust = {
  upstreams: readonly UpstreamConfig[];
  /** Upstream ids the exchanging client may use (its delegation.subject_token_upstreams); undefined: not checked here. */
  allowed?: readonly string[] | undefined;
  timeoutMs(upstream: UpstreamConfig): number;
  now: number;
};

/** Undefined when no upstream trusted for exchange has this issuer (the caller says untrusted issuer). */
export async function verifyUpstreamJwt(token: string, wanted: WantedForm, trust: ExchangeTrust): Promise<UpstreamTokenCheck | undefined> {
  let header: ProtectedHeaderParameters;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  // 1.
  if (typeof unverified.iss !== 'string') return undefined;
  const iss = unverified.iss;
  const found = candidatesFor(trust.upstreams, iss, unverified.tid);
  if (!found.candidates.length) return found.tenantRefused ? { ok: false, reason: 'tenant_not_allowed' } : undefined;
  // 2.
  const candidates = trust.allowed ? found.candidates.filter((u) => trust.allowed?.includes(u.id)) : found.candidates;
  const first = candidates[0];
  if (!first) return { ok: false, reason: 'upstream_not_allowed', upstream: found.candidates[0]?.id };
  // 3. Candidates share the issuer, so its keys.
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, await upstreamKeys(first, trust.timeoutMs(first)), {
      issuer: iss,
      algorithms: upstreamTokenAlgorithms,
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(trust.now * 1000),
      clockTolerance: upstreamClockToleranceSeconds,
    }));
  } catch (error) {
    return { ok: false, reason: verifyFailure(error, first), upstream: first.id };
  }
  if (typeof claims.iat === 'number' && claims.iat > trust.now + upstreamClockToleranceSeconds) return { ok: false, reason: 'not_yet_valid', upstream: first.id };
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return { ok: false, reason: 'invalid_claims', upstream: first.id };
  // 4. Logout tokens, security events, DPoP proofs and the like are never subject tokens here.
  const typ = header.typ?.toLowerCase().replace(/^application\//, '');
  if ((typ !== undefined && typ !== 'jwt' && typ !== 'at+jwt') || 'events' in claims) return { ok: false, reason: 'wrong_type', upstream: first.id };
  if ('act' in claims) return { ok: false, reason: 'already_delegated', upstream: first.id };
  let refusal: UpstreamTokenReason = 'audience';
  for (const upstream of candidates) {
    const form = formOf(upstream, claims, typ === 'at+jwt', wanted);
    if (typeof form === 'string') {
      return { ok: true, token: { upstream, form, issuer: iss, claims: Object.freeze({ ...claims }), exp: claims.exp } };
    }
    if (upstream === first) refusal = form.refused;
  }
  return { ok: false, reason: refusal, upstream: first.id };
}

function candidatesFor(upstreams: readonly UpstreamConfig[], iss: string, tid: unknown): { candidates: UpstreamConfig[]; tenantRefused: boolean } {
  const candidates: UpstreamConfig[] = [];
  let tenantRefused = false;
  for (const upstream of upstreams) {
    if (!upstream.exchange) continue;
    if (!isMultiTenantAuthority(upstream.kind, upstream.issuer)) {
      if (upstream.issuer === iss) candidates.push(upstream);
      continue;
    }
    const template = issuerTemplate(upstream.issuer);
    const tenant = expectedTenantIssuer(template, tid, undefined);
    if (!tenant.ok || tenant.issuer !== iss) continue;
    if (expectedTenantIssuer(template, tid, upstream.allowed_tenants).ok) candidates.push(upstream);
    else tenantRefused = true;
  }
  return { candidates, tenantRefused };
}

const audiences = (claims: JWTPayload): string[] => (typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a) => typeof a === 'string') : []);

function formOf(upstream: UpstreamConfig, claims: JWTPayload, atJwt: boolean, wanted: WantedForm): 'id_token' | 'access_token' | { refused: UpstreamTokenReason } {
  const exchange = upstream.exchange;
  const aud = audiences(claims);
  const idAudiences = [upstream.client_id, ...(exchange?.id_token_audiences ?? [])];
  const accessAudiences = exchange?.access_token_audiences ?? [];
  const forIdClient = aud.some((a) => idAudiences.includes(a));
  // OpenID Connect Core §2: an ID token's aud is client ids; RFC 9068 §2.1: an access token's typ is at+jwt.
  const looksLikeIdToken = !atJwt && (forIdClient || 'nonce' in claims || 'at_hash' in claims || 'c_hash' in claims);
  const asIdToken = atJwt ? 'access_token_as_id_token' : forIdClient ? undefined : 'audience';
  const asAccessToken = looksLikeIdToken ? 'id_token_as_access_token' : aud.some((a) => accessAudiences.includes(a)) ? undefined : 'audience';
  if (wanted !== 'access_token' && asIdToken === undefined) return 'id_token';
  if (wanted !== 'id_token' && asAccessToken === undefined) return 'access_token';
  // For `jwt`, the reason of the kind it looks like.
  const refused = wanted === 'access_token' || (wanted === 'jwt' && !looksLikeIdToken) ? asAccessToken : asIdToken;
  return { refused: refused ?? 'audience' };
}

function verifyFailure(error: unknown, upstream: UpstreamConfig): UpstreamTokenReason {
  if (error instanceof UpstreamError) throw error;
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'alg_not_allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return error.claim === 'nbf' || error.claim === 'iat' ? 'not_yet_valid' : 'invalid_claims';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed';
  // The key set could not be fetched or read (jose's generic error), or timed out.
  if (error instanceof errors.JWKSTimeout) throw new UpstreamError('timeout', `keys of ${upstream.id} timed out`);
  if (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') throw new UpstreamError('invalid_response', `keys of ${upstream.id}: ${error.message.slice(0, 200)}`);
  return 'bad_signature';
}
