// The token endpoint's shared steps, in a fixed order no grant can skip:
// 1 find the grant  2 authenticate the client  3 check the client may use the grant (and, for an
// agent, that it is active)  4 verify the DPoP proof, if any
// 5 handle  6 write the receipt (no receipt, no token)  7 the http layer answers with no-store.
// Denials after step 2 are recorded too, with the reason that stays off the wire.
import { authenticateClient, type AuthenticatedClient, type ClientAuthRequest } from '../clients/authenticate.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import { authorizationCodeGrant } from './authorization-code.ts';
import { clientCredentialsGrant } from './client-credentials.ts';
import { jwtBearerGrant } from './jwt-bearer.ts';
import { refreshTokenGrant } from './refresh-token.ts';
import { tokenExchange } from './token-exchange.ts';
import { cibaGrant } from './ciba.ts';
import { deviceCodeGrant } from './device-code.ts';
import { isActive } from '../delegation/policy.ts';
import { checkRequestProof } from '../dpop/request.ts';

const tokenPath = '/token';
import type { Grant, TokenResponse } from './types.ts';

const grants: ReadonlyMap<string, Grant> = new Map([authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, tokenExchange, jwtBearerGrant, cibaGrant, deviceCodeGrant].map((grant) => [grant.grantType, grant]));

export const supportedGrantTypes = (): string[] => [...grants.keys()];

export function assertionContext(deps: Deps, now: number) {
  const { client_assertions } = deps.config.main;
  return {
    issuer: deps.issuer,
    now,
    replay: deps.store.replay,
    keySets: deps.clientKeySets,
    maxLifetimeSeconds: client_assertions.max_lifetime_seconds,
    clockSkewSeconds: client_assertions.clock_skew_seconds,
    secretDecoy: deps.secretDecoy,
    limits: deps.rateLimits,
  };
}

/** A token request: the form, the Authorization header, and the DPoP header values (RFC 9449). */
export type TokenRequest = ClientAuthRequest & { dpop?: readonly string[] | undefined };

export async function dispatchTokenRequest(deps: Deps, request: TokenRequest): Promise<TokenResponse> {
  const now = deps.now();
  // 1. The grant.
  const grantType = request.params.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = grants.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', 'grant_type is not supported');

  // 2. The client.
  const client = await authenticateClient(request, clientLookup(deps), assertionContext(deps, now));
  // Token requests per client (rate_limits.token_requests): 429 over the limit, before any work.
  await deps.rateLimits.tokenRequest(client.client.client_id);

  const receipt = deps.receipts.newId();
  try {
    // 3. The client may use this grant.
    if (!(client.client.grant_types as readonly string[]).includes(grantType)) {
      throw new OAuthError('unauthorized_client', 'this client may not use this grant_type');
    }
    if (!isActive(client.client)) throw new OAuthError('unauthorized_client', `this agent is ${client.client.state}`, { reason: `client_${client.client.state}` });
    // 4. DPoP: one valid proof for this endpoint binds what is issued to its key.
    const dpop = await checkRequestProof(deps, { proofs: request.dpop ?? [], method: 'POST', path: tokenPath, endpoint: 'token' });
    if (!dpop && client.client.dpop_bound_access_tokens) throw new OAuthError('invalid_dpop_proof', 'this client must send a DPoP proof', { reason: 'dpop_required_by_client' });
    // 5. The grant itself.
    const result = await grant.handle({ deps, client, params: request.params, now, receipt, dpop });
    // 6. The receipt; if it cannot be written, no token leaves.
    await deps.receipts.record({ clientId: client.client.client_id, ...result.audit }, receipt);
    return result.response;
  } catch (error) {
    if (isOAuthError(error)) await recordDenial(deps, client, grantType, error);
    throw error;
  }
}

async function recordDenial(deps: Deps, client: AuthenticatedClient, grantType: string, error: OAuthError): Promise<void> {
  try {
    await deps.receipts.record({ event: 'passport.denied',
      clientId: client.client.client_id,
      details: { grant_type: grantType, error: error.code, reason: error.reason ?? error.description },
    });
  } catch (cause) {
    deps.log.error({ err: cause }, 'audit write failed for a denial');
  }
}
