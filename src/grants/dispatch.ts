// The token endpoint's shared steps, in a fixed order no grant can skip:
// 1 find the grant  2 authenticate the client  3 check the client may use the grant (and, for an
// agent, that it is active)  4 verify the DPoP proof, if any
// 5 handle  6 write the receipt (no receipt, no token)  7 the http layer answers with no-store.
// Denials after step 2 are recorded too, with the reason that stays off the wire; a request a policy
// paused for approval comes back from the grant as a result of its own and gets its own receipt
// (passport.paused) before the client is told authorization_pending. Every step adds
// what it decided to the request's trail (audit/trail.ts), which the receipt keeps; the receipt's
// id goes back to the caller in the Consulate-Receipt header, denied or issued.
// With tracing on, steps 2–6 are child spans of the request's (token.authenticate_client … token.receipt).
import { authenticateClient, type AuthenticatedClient, type ClientAuthRequest } from '../clients/authenticate.ts';
import { assertionContext } from '../clients/auth-context.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import { pickParams } from '../oauth/params.ts';
import { authorizationCodeGrant } from './authorization-code.ts';
import { clientCredentialsGrant } from './client-credentials.ts';
import { jwtBearerGrant } from './jwt-bearer.ts';
import { refreshTokenGrant } from './refresh-token.ts';
import { tokenExchange } from './token-exchange.ts';
import { cibaGrant } from './ciba.ts';
import { deviceCodeGrant } from './device-code.ts';
import { isActive } from '../delegation/policy.ts';
import { checkRequestProof } from '../dpop/request.ts';
import { activeSpan, inSpan, inSpanSync } from '../tracing/spans.ts';
import { newTrail, type DispatchStep, type Trail } from '../audit/trail.ts';

const tokenPath = '/token';
import type { Grant, GrantResult, TokenResponse } from './types.ts';
import { isPaused, pausedAnswer, type Paused } from '../obligations/pending.ts';
import { knownOr } from '../metrics/labels.ts';

const grants: ReadonlyMap<string, Grant> = new Map([authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, tokenExchange, jwtBearerGrant, cibaGrant, deviceCodeGrant].map((grant) => [grant.grantType, grant]));

export const supportedGrantTypes = (): string[] => [...grants.keys()];

/** Parameters every grant sees besides its own: what names the grant and the client, never a credential. */
const commonParams = ['grant_type', 'client_id'] as const;

/** A token request: the form, the Authorization header, and the DPoP header values (RFC 9449). */
export type TokenRequest = ClientAuthRequest & { dpop?: readonly string[] | undefined };

/** The response header naming the receipt of a token request (issued or denied), so a developer can ask an operator why. */
export const receiptHeader = 'Consulate-Receipt';

/** What the token endpoint answers, and the id of the receipt written for it. */
export type Dispatched = { response: TokenResponse; receipt: string };

export async function dispatchTokenRequest(deps: Deps, request: TokenRequest): Promise<Dispatched> {
  const now = deps.now();
  const traced = activeSpan(); // the request's span; steps 2–6 get child spans
  // 1. The grant.
  const grantType = request.params.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = grants.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', 'grant_type is not supported');
  traced?.setAttribute('consulate.grant_type', grantType);

  // 2. The client.
  const client = await inSpan('token.authenticate_client', () => authenticateClient(request, clientLookup(deps, request.source), assertionContext(deps, now)));
  traced?.setAttribute('consulate.client_id', client.client.client_id);
  // Token requests per client (rate_limits.token_requests): 429 over the limit, before any work.
  await deps.rateLimits.tokenRequest(client.client.client_id);

  const receipt = deps.receipts.newId();
  const trail = newTrail(client.method);
  let step: DispatchStep = 'check_client';
  let paused: Paused | undefined;
  try {
    // 3. The client may use this grant.
    inSpanSync('token.check_client', () => {
      if (!(client.client.grant_types as readonly string[]).includes(grantType)) {
        throw new OAuthError('unauthorized_client', 'this client may not use this grant_type', { reason: 'grant_type_not_allowed' });
      }
      if (!isActive(client.client)) throw new OAuthError('unauthorized_client', `this agent is ${client.client.state}`, { reason: `client_${client.client.state}` });
    });
    // 4. DPoP: one valid proof for this endpoint binds what is issued to its key.
    step = 'verify_dpop';
    const dpop = await inSpan('token.verify_dpop', () => checkRequestProof(deps, { proofs: request.dpop ?? [], method: 'POST', path: tokenPath, endpoint: 'token' }));
    if (!dpop && client.client.dpop_bound_access_tokens) throw new OAuthError('invalid_dpop_proof', 'this client must send a DPoP proof', { reason: 'dpop_required_by_client' });
    if (dpop) trail.dpop_jkt = dpop.jkt;
    // 5. The grant itself.
    step = 'grant';
    // Only what the grant declares reaches it (node-oidc-provider's allow-list): client credentials stay with step 2.
    const params = pickParams(request.params, [...commonParams, ...grant.params]);
    const result = await inSpan('token.grant', () => grant.handle({ deps, client, params, now, receipt, dpop, trail, source: request.source }));
    if (isPaused(result)) paused = result;
    else {
      // 6. The receipt, with the trail; if it cannot be written, no token leaves.
      step = 'receipt';
      trail.at = undefined;
      trail.subject = undefined;
      result.audit.details.trail = trail;
      await inSpan('token.receipt', () => deps.receipts.record({ clientId: client.client.client_id, ...result.audit }, receipt));
      countPassport(deps, grantType, result);
      traced?.setAttribute('consulate.outcome', 'issued');
      return { response: result.response, receipt };
    }
  } catch (error) {
    if (isOAuthError(error)) {
      trail.refused = { step, ...(step === 'grant' && trail.at !== undefined ? { at: trail.at } : {}) };
      const subject = trail.subject;
      trail.at = undefined;
      trail.subject = undefined;
      if (await recordDenial(deps, client, grantType, error, trail, receipt, subject)) error.headers[receiptHeader] = receipt;
    }
    throw error;
  }
  // 6'. Paused by a policy (nothing minted): its own receipt, then the answer telling the agent to poll.
  const subject = trail.subject;
  trail.at = undefined;
  trail.subject = undefined;
  const answer = pausedAnswer(paused);
  if (await recordPause(deps, client, grantType, paused, trail, receipt, subject)) answer.headers[receiptHeader] = receipt;
  throw answer;
}

/** A Passport counts once its receipt is written; its resource as the config names it, else `other`. */
function countPassport(deps: Deps, grantType: string, result: GrantResult): void {
  const { event, details } = result.audit;
  if (event !== 'passport.issued' && event !== 'passport.exchanged') return;
  deps.metrics.passportIssued(grantType, knownOr(deps.config.resources, typeof details.aud === 'string' ? details.aud : undefined));
}

/** A pause's receipt (passport.paused, under the id the issuance would have had); false when it could not be written (logged). */
async function recordPause(deps: Deps, client: AuthenticatedClient, grantType: string, paused: Paused, trail: Trail, receipt: string, subject: string | undefined): Promise<boolean> {
  try {
    await deps.receipts.record({ event: 'passport.paused', clientId: client.client.client_id, subject, details: { grant_type: grantType, approval: paused.approvalId, reason: paused.reason, trail } }, receipt);
    return true;
  } catch (cause) {
    deps.log.error({ err: cause }, 'audit write failed for a pause');
    return false;
  }
}

/** The denial's receipt, under the id the issuance would have had; false when it could not be written (logged). */
async function recordDenial(deps: Deps, client: AuthenticatedClient, grantType: string, error: OAuthError, trail: Trail, receipt: string, subject: string | undefined): Promise<boolean> {
  try {
    await deps.receipts.record({ event: 'passport.denied',
      clientId: client.client.client_id,
      subject,
      details: { grant_type: grantType, error: error.code, reason: error.reason ?? error.description, trail },
    }, receipt);
    return true;
  } catch (cause) {
    deps.log.error({ err: cause }, 'audit write failed for a denial');
    return false;
  }
}
