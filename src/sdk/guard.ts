// The Passport guard for resource servers, framework-free: given a request's method, configured
// URL and headers, it says whether the request may proceed and, if not, the status, error and
// WWW-Authenticate challenge to answer with. Checks run in a fixed order (numbered below): the
// Authorization header, the token (JWT against the issuer's keys, or introspection), its DPoP
// binding and proof (RFC 9449 §7), then what the route needs (scopes, authorization details).
// It must never echo the token, say on the wire which check failed (the reason is for logs), or
// build a URL from the request's Host header (the caller passes the URL it configured).
import { createNonceIssuer } from '../dpop/nonce.ts';
import { dpopAlgorithms, verifyDpopProof } from '../dpop/proof.ts';
import { refusal, type ChallengeContext } from './challenge.ts';
import { readCredentials } from './credentials.ts';
import { createIntrospector } from './introspection.ts';
import { createMetadataSource } from './issuer-metadata.ts';
import { hasAuthorizationDetails, missingScopes } from './requirements.ts';
import { checkClaims, createJwtCheck, looksLikeJwt, type TokenCheck } from './token-check.ts';
import { createSignalState } from './signals.ts';
import { createSignalReceiver, type SignalReceiver } from './ssf-receiver.ts';
import { createTtlCache } from './ttl-cache.ts';
import type { GuardFailure, GuardRequest, GuardResult, PassportGuardOptions, RefusalReason, Requirements } from './types.ts';

export type PassportGuard = {
  /** Checks one request; `requirements` add to the guard's own (per route). */
  verify(request: GuardRequest, requirements?: Requirements): Promise<GuardResult>;
  readonly issuer: string;
  readonly resource: string;
  readonly dpopRequired: boolean;
  readonly dpopAlgorithms: readonly string[];
  /**
   * A 403 insufficient_scope for a request `verify` already accepted, when what it needs is only
   * known later (an MCP server's per-tool scopes): `scope` is what the client should ask for.
   */
  insufficientScope(presented: 'Bearer' | 'DPoP', scope: string): GuardFailure;
  /** With `ssf`: the guard's SSF receiver (start it once; stop it on shutdown). */
  readonly signals?: SignalReceiver;
};

/** Defaults, documented in PassportGuardOptions. */
export const guardDefaults = { clockSkewSeconds: 30, maxClockSkewSeconds: 60, dpopIatWindowSeconds: 60, replayCacheSize: 100_000, introspectionCacheSeconds: 10, introspectionCacheSize: 10_000 } as const;

const passportAlgorithms = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
const maxTokenLength = 16384;

export function createPassportGuard(options: PassportGuardOptions): PassportGuard {
  // Configuration errors are thrown at once, never discovered on the first request.
  const { issuer, resource } = options;
  if (!URL.canParse(issuer)) throw new TypeError('issuer must be a URL');
  if (!resource) throw new TypeError('resource is required');
  const skew = options.clockSkewSeconds ?? guardDefaults.clockSkewSeconds;
  if (!(skew >= 0 && skew <= guardDefaults.maxClockSkewSeconds)) throw new TypeError(`clockSkewSeconds must be between 0 and ${guardDefaults.maxClockSkewSeconds}`);
  const algorithms = options.algorithms ?? ['ES256', 'RS256'];
  if (!algorithms.length || algorithms.some((alg) => !passportAlgorithms.includes(alg))) throw new TypeError(`algorithms must be among ${passportAlgorithms.join(', ')}`);
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const metadata = createMetadataSource(issuer, fetchImpl);
  const fromMetadata = (member: 'jwks_uri' | 'introspection_endpoint') => async () => {
    const value = (await metadata())[member];
    if (!value) throw new Error(`the issuer's metadata has no ${member}`);
    return value;
  };

  const checkJwt = createJwtCheck({
    issuer,
    resource,
    algorithms,
    clockSkewSeconds: skew,
    jwksUri: options.jwksUri ? async () => options.jwksUri as string : fromMetadata('jwks_uri'),
    fetch: fetchImpl,
  });
  const introspection = options.introspection;
  const introspect = introspection
    ? createIntrospector({
        endpoint: introspection.endpoint ? async () => introspection.endpoint as string : fromMetadata('introspection_endpoint'),
        clientId: introspection.clientId,
        clientSecret: introspection.clientSecret,
        cacheSeconds: introspection.cacheSeconds ?? guardDefaults.introspectionCacheSeconds,
        cacheSize: introspection.cacheSize ?? guardDefaults.introspectionCacheSize,
        fetch: fetchImpl,
      })
    : undefined;

  // Shared Signals: what the issuer said about delegations, agents and Passports, applied before expiry.
  const ssf = options.ssf;
  const signalState = ssf ? createSignalState({ issuer: ssf.transmitter ?? issuer, rememberSeconds: ssf.rememberSeconds ?? 86_400 }) : undefined;
  const signals =
    ssf && signalState
      ? createSignalReceiver({ ...ssf, transmitter: ssf.transmitter ?? issuer, resource, fetch: ssf.fetch ?? fetchImpl }, signalState, (match) => introspect?.forget(match), now)
      : undefined;

  const dpop = options.dpop ?? {};
  const proofAlgorithms = dpop.algorithms ?? dpopAlgorithms;
  const iatWindowSeconds = dpop.iatWindowSeconds ?? guardDefaults.dpopIatWindowSeconds;
  const nonces = dpop.nonce ? createNonceIssuer(Buffer.from(dpop.nonce.secret), dpop.nonce.windowSeconds) : undefined;
  const replay = createTtlCache<true>(dpop.replayCacheSize ?? guardDefaults.replayCacheSize);
  const dpopRequired = dpop.required ?? false;
  const challenge: ChallengeContext = { realm: options.realm, resourceMetadataUrl: options.resourceMetadataUrl, bearerAllowed: !dpopRequired, dpopAlgorithms: proofAlgorithms };

  /** A JWT is verified here (anything shaped like one, so an unsigned or encrypted one is refused, not sent off); an opaque token (or any, with `always`) is asked about. */
  async function checkToken(token: string, at: number): Promise<TokenCheck> {
    if (token.length > maxTokenLength) return { ok: false, reason: 'malformed_token' };
    if (looksLikeJwt(token)) {
      const local = await checkJwt(token, at);
      // A revoked delegation or Passport, or a suspended agent, as signalled (SSF): refused before it expires, without asking.
      if (local.ok && signalState?.refuses(local.claims, at)) return { ok: false, reason: 'revoked' };
      // With `always`, a valid JWT must also still be active; its signed claims stay the ones used.
      if (!local.ok || !introspect || !introspection?.always) return local;
      const answer = await introspect(token, at).catch(() => undefined);
      if (!answer) return { ok: false, reason: 'unavailable' };
      return answer.active ? local : { ok: false, reason: 'inactive' };
    }
    if (!introspect) return { ok: false, reason: 'opaque_not_accepted' };
    const answer = await introspect(token, at).catch(() => undefined);
    if (!answer) return { ok: false, reason: 'unavailable' };
    if (!answer.active) return { ok: false, reason: 'inactive' };
    const claims = checkClaims(answer.claims, { issuer, resource, clockSkewSeconds: skew }, at);
    return claims.ok && signalState?.refuses(claims.claims, at) ? { ok: false, reason: 'revoked' } : claims;
  }

  async function verify(request: GuardRequest, requirements: Requirements = {}): Promise<GuardResult> {
    const at = now();
    // Every answer carries the next nonce when nonces are on (RFC 9449 §9), so a client never needs an extra round trip.
    const nonce = nonces?.current(resource, at);
    const refuse = (reason: RefusalReason, presented?: 'Bearer' | 'DPoP', scope?: string) =>
      refusal(challenge, reason, presented, { ...(scope !== undefined ? { scope } : {}), ...(nonce !== undefined ? { nonce } : {}) });

    // 1. One credential, Bearer or DPoP scheme (RFC 6750 §2.1, RFC 9449 §7.1).
    const credentials = readCredentials(request.headers);
    if (credentials.kind === 'none') return refuse('no_credentials');
    if (credentials.kind === 'malformed') return refuse('malformed_authorization');
    const { scheme, token } = credentials;

    // 2. The token itself: signature, typ, iss, aud, exp/nbf (RFC 9068 §4), or introspection (RFC 7662).
    const checked = await checkToken(token, at);
    if (!checked.ok) return refuse(checked.reason, scheme);
    const passport = checked.claims;

    // 3. Sender constraint (RFC 9449 §7): a bound token needs the DPoP scheme and a proof by its key.
    const jkt = passport.cnf?.jkt;
    if (passport.cnf !== undefined && jkt === undefined) return refuse('unsupported_confirmation', scheme);
    if (jkt === undefined) {
      if (scheme === 'DPoP') return refuse('unbound_token_as_dpop', scheme);
      if (dpopRequired) return refuse('dpop_required', scheme);
    } else {
      if (scheme === 'Bearer') return refuse('bound_token_as_bearer', scheme);
      const proof = await verifyDpopProof({
        proofs: credentials.proofs,
        method: request.method,
        url: request.url,
        accessToken: token,
        now: at,
        iatWindowSeconds,
        algorithms: proofAlgorithms,
        checkNonce: nonces ? (value) => nonces.check(resource, value, at) : undefined,
        useJti: async (key, jti, expiresAt) => replay.add(`${key}:${jti}`, true, expiresAt, at),
      });
      if (!proof.ok) return refuse(`proof_${proof.reason}`, scheme);
      if (proof.jkt !== jkt) return refuse('key_mismatch', scheme);
    }

    // 4. Scopes (RFC 6750 §3.1: the challenge names the scope the request needs).
    const scopes = [...new Set([...(options.requiredScopes ?? []), ...(requirements.scopes ?? [])])];
    if (missingScopes(passport, scopes).length) return refuse('insufficient_scope', scheme, scopes.join(' '));

    // 5. Authorization details (RFC 9396).
    const details = [...(options.requiredAuthorizationDetails ?? []), ...(requirements.authorizationDetails ?? [])];
    if (details.length && !hasAuthorizationDetails(passport, details, resource)) return refuse('insufficient_authorization_details', scheme);

    return { ok: true, passport, token: scheme, ...(jkt !== undefined ? { dpop: { jkt } } : {}), headers: nonce !== undefined ? { 'DPoP-Nonce': nonce } : {} };
  }

  const insufficientScope = (presented: 'Bearer' | 'DPoP', scope: string) => refusal(challenge, 'insufficient_scope', presented, { scope });
  return { verify, issuer, resource, dpopRequired, dpopAlgorithms: proofAlgorithms, insufficientScope, ...(signals ? { signals } : {}) };
}
