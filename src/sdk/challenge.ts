// Turns a refusal reason into what the client sees: status, error code, a generic description and
// the WWW-Authenticate challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1 `resource_metadata`).
// One exhaustive switch maps reasons to wire errors that never say which check failed; it must not
// put anything from the request (least of all the token) into a header or a description.
import { formatChallenge } from '../oauth/www-authenticate.ts';
import type { GuardError, GuardFailure, RefusalReason } from './types.ts';

export type ChallengeContext = {
  realm?: string | undefined;
  resourceMetadataUrl?: string | undefined;
  /** False when DPoP is required: no Bearer challenge is offered then. */
  bearerAllowed: boolean;
  /** Proof algorithms, for the DPoP challenge's `algs`. */
  dpopAlgorithms: readonly string[];
};

type Scheme = 'Bearer' | 'DPoP';
type Wire = { status: GuardFailure['status']; error?: GuardError; description?: string; scheme?: Scheme };

const invalidToken = 'The access token is invalid';

/** The one mapping of reasons to wire errors; `presented` is the scheme the client used. */
export function wireFor(reason: RefusalReason, presented: Scheme | undefined): Wire {
  switch (reason) {
    case 'no_credentials':
      // RFC 6750 §3.1: no error code; the description is for the body only.
      return { status: 401, description: 'An access token is required' };
    case 'malformed_authorization':
      return { status: 400, error: 'invalid_request', description: 'The Authorization header is malformed', scheme: presented };
    case 'malformed_token':
    case 'alg_not_allowed':
    case 'unknown_key':
    case 'bad_signature':
    case 'wrong_type':
    case 'wrong_issuer':
    case 'wrong_audience':
    case 'expired':
    case 'not_yet_valid':
    case 'missing_claims':
    case 'opaque_not_accepted':
    case 'inactive':
    case 'revoked':
    case 'unsupported_confirmation':
    case 'unbound_token_as_dpop':
      return { status: 401, error: 'invalid_token', description: invalidToken, scheme: presented };
    case 'bound_token_as_bearer':
      return { status: 401, error: 'invalid_token', description: 'This access token must be sent with the DPoP scheme and a DPoP proof', scheme: 'DPoP' };
    case 'dpop_required':
      return { status: 401, error: 'invalid_token', description: 'This resource accepts DPoP-bound access tokens only', scheme: 'DPoP' };
    case 'key_mismatch':
      return { status: 401, error: 'invalid_token', description: 'Invalid DPoP key binding', scheme: 'DPoP' };
    case 'proof_nonce_required':
      return { status: 401, error: 'use_dpop_nonce', description: 'A DPoP nonce from this resource server is required', scheme: 'DPoP' };
    case 'proof_multiple_proofs':
    case 'proof_malformed':
    case 'proof_wrong_typ':
    case 'proof_alg_not_allowed':
    case 'proof_private_key':
    case 'proof_bad_signature':
    case 'proof_missing_claims':
    case 'proof_htm_mismatch':
    case 'proof_htu_mismatch':
    case 'proof_iat_out_of_window':
    case 'proof_ath_mismatch':
    case 'proof_ath_missing':
    case 'proof_replay':
      return { status: 401, error: 'invalid_dpop_proof', description: 'The DPoP proof is invalid', scheme: 'DPoP' };
    case 'insufficient_scope':
      return { status: 403, error: 'insufficient_scope', description: 'The access token does not grant the scope this request needs', scheme: presented };
    case 'insufficient_authorization_details':
      return { status: 403, error: 'insufficient_scope', description: 'The access token does not authorize this request', scheme: presented };
    case 'unavailable':
      return { status: 503, error: 'temporarily_unavailable', description: 'The access token cannot be checked right now' };
    default: {
      const unreachable: never = reason;
      throw new Error(`unmapped refusal reason ${String(unreachable)}`);
    }
  }
}

function challenge(scheme: Scheme, ctx: ChallengeContext, params: [string, string][]): string {
  return formatChallenge(scheme, [
    ...(ctx.realm !== undefined ? ([['realm', ctx.realm]] as [string, string][]) : []),
    ...params,
    ...(scheme === 'DPoP' ? ([['algs', ctx.dpopAlgorithms.join(' ')]] as [string, string][]) : []),
    ...(ctx.resourceMetadataUrl !== undefined ? ([['resource_metadata', ctx.resourceMetadataUrl]] as [string, string][]) : []),
  ]);
}

/** The WWW-Authenticate value: the challenge carrying the error first, then the other scheme offered (RFC 9449 §7.2). */
export function challengeHeader(ctx: ChallengeContext, wire: Wire, scope?: string): string {
  const offered: Scheme[] = ctx.bearerAllowed ? ['Bearer', 'DPoP'] : ['DPoP'];
  // An error about a scheme this resource does not offer is told in the DPoP challenge.
  const erring: Scheme = wire.scheme !== undefined && offered.includes(wire.scheme) ? wire.scheme : (offered[0] as Scheme);
  const order = [erring, ...offered.filter((s) => s !== erring)];
  return order
    .map((scheme) => {
      if (scheme !== erring || wire.error === undefined) return challenge(scheme, ctx, []);
      const params: [string, string][] = [['error', wire.error]];
      if (wire.description) params.push(['error_description', wire.description]);
      if (scope) params.push(['scope', scope]);
      return challenge(scheme, ctx, params);
    })
    .join(', ');
}

export function refusal(ctx: ChallengeContext, reason: RefusalReason, presented: Scheme | undefined, extra: { scope?: string; nonce?: string } = {}): GuardFailure {
  const wire = wireFor(reason, presented);
  return {
    ok: false,
    status: wire.status,
    headers: {
      ...(wire.status !== 503 ? { 'WWW-Authenticate': challengeHeader(ctx, wire, extra.scope) } : {}),
      ...(extra.nonce !== undefined ? { 'DPoP-Nonce': extra.nonce } : {}),
    },
    ...(wire.error !== undefined ? { error: wire.error } : {}),
    ...(wire.description !== undefined ? { errorDescription: wire.description } : {}),
    reason,
  };
}
