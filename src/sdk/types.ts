// Public types of the guard: its options, what a request looks like to it, what it answers, and
// the reasons it refuses. Types only: no code, nothing imported at run time.
import type { DpopReason } from '../dpop/proof.ts';

/** What a verified Passport carries (RFC 9068 §2.2 plus Consulate's claims); unknown claims pass through. */
export type Passport = {
  iss?: string;
  sub: string;
  aud: string | string[];
  client_id?: string;
  azp?: string;
  scope?: string;
  authorization_details?: AuthorizationDetail[];
  /** Who acts now (RFC 8693 §4.1), nesting who acted before. */
  act?: { sub: string; iss?: string; act?: unknown };
  did?: string;
  cnf?: { jkt?: string; [member: string]: unknown };
  jti?: string;
  iat?: number;
  exp?: number;
  [claim: string]: unknown;
};

export type AuthorizationDetail = { type: string; actions?: string[]; locations?: string[]; [member: string]: unknown };

/**
 * One authorization detail the request needs (RFC 9396): a detail of `type`, listing every one of
 * `actions` when given, whose other members equal `where` when given, and whose `locations`, when
 * present, include this resource.
 */
export type DetailRequirement = { type: string; actions?: readonly string[]; where?: Readonly<Record<string, string | number | boolean>> };

/** What one route needs beyond a valid Passport. */
export type Requirements = { scopes?: readonly string[]; authorizationDetails?: readonly DetailRequirement[] };

export type PassportGuardOptions = {
  /** The authorization server's issuer identifier: Passports must carry exactly this `iss`. */
  issuer: string;
  /** This resource's identifier (RFC 8707): Passports must name it in `aud`. */
  resource: string;
  /** Where the issuer's keys are; default: `jwks_uri` from its RFC 8414 metadata, fetched once. */
  jwksUri?: string;
  /** Accepted clock difference for `exp` and `nbf`, in seconds. Default 30, at most 60. */
  clockSkewSeconds?: number;
  /** Passport signature algorithms accepted: asymmetric only. Default ES256 and RS256. */
  algorithms?: readonly ('ES256' | 'ES384' | 'RS256' | 'PS256' | 'EdDSA')[];
  /** What every request needs; `verify` can ask for more per route. */
  requiredScopes?: readonly string[];
  requiredAuthorizationDetails?: readonly DetailRequirement[];
  dpop?: {
    /** Refuse Bearer tokens: only DPoP-bound Passports with a proof are accepted. Default false. */
    required?: boolean;
    /** Demand a nonce of this resource server in every proof (RFC 9449 §9). */
    nonce?: { secret: string | Uint8Array; windowSeconds: number };
    /** Accepted age (and clock difference) of a proof's `iat`, in seconds. Default 60. */
    iatWindowSeconds?: number;
    /** Proof algorithms accepted; default the ones src/dpop/proof.ts accepts. */
    algorithms?: readonly string[];
    /** Proof `jti`s remembered against replay. Default 100000; when full, new proofs are refused. */
    replayCacheSize?: number;
  };
  /** This resource's RFC 9728 metadata URL, named in every challenge (`resource_metadata`). */
  resourceMetadataUrl?: string;
  /** Optional `realm` of the challenges. */
  realm?: string;
  /** Ask the issuer (RFC 7662) about opaque tokens, or about every token when `always` is set. */
  introspection?: {
    /** Default: `introspection_endpoint` from the issuer's metadata. */
    endpoint?: string;
    clientId: string;
    clientSecret: string;
    /** How long an answer is reused, in seconds (never past the token's `exp`). Default 10. */
    cacheSeconds?: number;
    /**
     * Introspect JWT Passports too, so a revocation is seen within `cacheSeconds`. Without it a JWT
     * Passport is verified offline and a revoked one is accepted until it expires (minutes): the
     * trade-off for routes where that matters is one introspection per token per `cacheSeconds`.
     */
    always?: boolean;
    /** Answers remembered at most. Default 10000. */
    cacheSize?: number;
  };
  /**
   * Listen to the issuer's Shared Signals (SSF 1.0): revoked delegations, suspended agents, revoked
   * Passports and ended sessions reach the guard as SETs, and their Passports are refused (and
   * their cached introspection answers forgotten) before they expire. `guard.signals.start()` sets
   * up the stream.
   */
  ssf?: SsfReceiverOptions;
  /** Seconds since the epoch; default the system clock. */
  now?: () => number;
  /** For metadata, JWKS and introspection requests; default the global fetch. */
  fetch?: typeof fetch;
};

/** One SET the guard received and verified (for logs and tests). */
export type ReceivedSignal = { jti: string; types: string[]; txn?: string | undefined; events: Record<string, Record<string, unknown>>; subId?: Record<string, unknown> | undefined };

export type SsfReceiverOptions = {
  /** The transmitter's issuer (its /.well-known/ssf-configuration). Default: the guard's issuer. */
  transmitter?: string;
  /**
   * A Passport for the transmitter's SSF resource with scope `ssf` (e.g. the agent SDK's
   * `clientCredentials({ resource, scope: 'ssf' })`); called for every request, so it should cache.
   */
  accessToken: () => Promise<string>;
  /**
   * poll (default): the guard polls its stream (RFC 8936 long polls). push: SETs are POSTed to
   * `endpointUrl` (RFC 8935), where the app mounts `ssfPushHandler(guard)`; the transmitter sends
   * `authorizationHeader` with each, and the handler checks it.
   */
  delivery?: { method: 'poll' } | { method: 'push'; endpointUrl: string; authorizationHeader?: string };
  /** Use this stream; default: the one with this guard's description and delivery, created when missing. */
  streamId?: string;
  /** The stream's description (how the guard finds its stream again). Default: "Consulate guard of <resource>". */
  description?: string;
  /** How long a revoked delegation, Passport or a suspension is remembered, in seconds. Default 86400 (past the longest Passport). */
  rememberSeconds?: number;
  /** Wait after a failed poll, in ms. Default 2000. */
  retryMs?: number;
  /** Told about failures in the background (the poll loop never throws). */
  onError?: (error: Error) => void;
  /** Told about every SET applied. */
  onSignal?: (signal: ReceivedSignal) => void;
  /** For the transmitter's metadata, JWKS, stream and poll requests; default the guard's fetch. */
  fetch?: typeof fetch;
};

export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export type GuardRequest = {
  method: string;
  /** The absolute URL the request was meant for, as configured (never built from a Host header). */
  url: string;
  headers: HeaderSource;
};

export type GuardHeaders = { 'WWW-Authenticate'?: string; 'DPoP-Nonce'?: string };

export type GuardSuccess = { ok: true; passport: Passport; token: 'Bearer' | 'DPoP'; dpop?: { jkt: string }; headers: GuardHeaders };

export type GuardFailure = {
  ok: false;
  status: 400 | 401 | 403 | 503;
  headers: GuardHeaders;
  /** RFC 6750 / RFC 9449 error code; absent when the request carried no credentials (RFC 6750 §3.1). */
  error?: GuardError;
  errorDescription?: string;
  /** Which check failed: for logs, never for the wire. */
  reason: RefusalReason;
};

export type GuardResult = GuardSuccess | GuardFailure;

export type GuardError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'temporarily_unavailable';

export type TokenReason =
  | 'malformed_token'
  | 'alg_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_type'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claims'
  | 'opaque_not_accepted'
  | 'inactive'
  /** A signal from the issuer (SSF) revoked its delegation or the Passport, or suspended an agent of it. */
  | 'revoked';

export type RefusalReason =
  | 'no_credentials'
  | 'malformed_authorization'
  | TokenReason
  | 'unsupported_confirmation'
  | 'bound_token_as_bearer'
  | 'unbound_token_as_dpop'
  | 'dpop_required'
  | `proof_${DpopReason}`
  | 'key_mismatch'
  | 'insufficient_scope'
  | 'insufficient_authorization_details'
  | 'unavailable';
