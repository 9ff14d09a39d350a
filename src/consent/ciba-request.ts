// The backchannel authentication request (OpenID CIBA Core §7.1–7.3) of an authenticated client:
// 1 the client may use CIBA  2 the parameters: the form's, or only a signed request object's
// (§7.1.1)  3 checked: scope with openid, resource and authorization_details as at /authorize,
// binding_message, acr_values, requested_expiry, client_notification_token for ping clients
// 4 exactly one hint, resolved to a local person (§7.1; unknown_user_id, §13, says no more)
// 5 who approves (and the step-up their sign-in must meet)  6 the waiting request, bound to the client  7 §7.3: auth_req_id, expires_in,
// interval. Everything is checked before anything is written. Must not issue tokens (the CIBA
// grant does, on the client's poll) and must not log hints or tokens.
import type { ClientConfig } from '../config/schema.ts';
import { cibaGrant } from '../oauth/grant-types.ts';
import type { Deps } from '../deps.ts';
import { validateAsk } from '../authorize/request.ts';
import { isActive } from '../delegation/policy.ts';
import { randomId } from '../oauth/ids.ts';
import type { PersonRequest } from '../grants/approved-request.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import { approvalFor } from './approvers-for.ts';
import { checkAgentForPerson } from '../delegation/agent-person.ts';
import { stepUpRecord, type StepUpRecord } from '../obligations/step-up.ts';
import type { TrailObligation } from '../audit/trail.ts';
import { verifyIdTokenHint } from '../passports/id-token.ts';
import { openApproval } from './approvals.ts';
import { readCibaRequestObject } from './ciba-request-object.ts';
import type { CibaPing } from './ciba-ping.ts';

/**
 * What a CIBA request keeps beside the PersonRequest. Ping clients only: the auth_req_id and the
 * client's notification token, kept because the ping (§10.2) must send them back; the auth_req_id
 * alone gets nothing (the poll authenticates the client that made the request).
 */
export type CibaRequest = PersonRequest & { ping?: CibaPing | undefined; stepUp?: StepUpRecord | undefined; obligation?: TrailObligation | undefined };

export type BackchannelAnswer = { auth_req_id: string; expires_in: number; interval: number };

export const bindingMessageMaxLength = 128;

/** Sent beside a signed request object only to authenticate the client (§7.1.1). */
const authenticationParams = new Set(['request', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type']);

const bad = (description: string, reason?: string) => new OAuthError('invalid_request', description, reason ? { reason } : {});

export async function requestBackchannelAuthentication(deps: Deps, client: ClientConfig, form: Params): Promise<BackchannelAnswer> {
  // 1.
  if (!(client.grant_types as readonly string[]).includes(cibaGrant) || client.token_endpoint_auth_method === 'none') {
    throw new OAuthError('unauthorized_client', 'this client may not use backchannel authentication', { reason: 'client_without_ciba' });
  }
  if (!isActive(client)) throw new OAuthError('unauthorized_client', `this agent is ${client.state}`, { reason: `client_${client.state}` });

  // 2.
  const jwt = form.get('request');
  let params = form;
  if (jwt !== undefined) {
    const outside = form.names().find((name) => !authenticationParams.has(name));
    if (outside !== undefined) throw bad('with a signed request, every authentication request parameter must be inside it', 'params_beside_request');
    params = await readCibaRequestObject(deps, client, jwt);
  }

  // 3.
  if (params.get('scope') === undefined) throw bad('scope is required');
  const ask = validateAsk(deps, client, params);
  if (!ask.identityScopes.includes('openid')) throw new OAuthError('invalid_scope', 'scope must include openid');
  const bindingMessage = checkBindingMessage(params.get('binding_message'));
  const acrValues = checkAcrValues(params.get('acr_values'));
  const expiresIn = checkRequestedExpiry(deps, params.get('requested_expiry'));
  const clientNotificationToken = checkNotificationToken(client, params.get('client_notification_token'));

  // 4.
  const sub = await resolveHint(deps, client, params);
  const claims = (await deps.store.subjects.claimsOf(sub)) ?? {};
  // An agent asking for a person acts for them: its delegation policy decides, as for exchange.
  checkAgentForPerson(deps, client, { sub, claims, resource: ask.resource, resourceScopes: ask.resourceScopes, details: ask.authorizationDetails ?? [] });

  // 5. A policy's refusal is §13 access_denied, which this endpoint answers with 403.
  const { approvers, stepUp, obligation } = await approvalFor(deps, {
    client,
    grant: 'ciba',
    sub,
    claims,
    resource: ask.resource,
    scopes: [...ask.identityScopes, ...ask.resourceScopes],
    details: ask.authorizationDetails ?? [],
  }).catch((error: unknown) => {
    if (isOAuthError(error) && error.code === 'access_denied') throw new OAuthError('access_denied', error.description, { status: 403, reason: error.reason });
    throw error;
  });

  // 6. The auth_req_id is made here so that a ping can name it; only its hash is a key in the store.
  const authReqId = randomId();
  const request: CibaRequest = {
    identityScopes: ask.identityScopes,
    resource: ask.resource,
    resourceScopes: ask.resourceScopes,
    authorizationDetails: ask.authorizationDetails,
    bindingMessage,
    acrValues,
    ...(clientNotificationToken !== undefined ? { ping: { authReqId, clientNotificationToken } } : {}),
    // A policy's step-up: the approver's own sign-in must meet it (consent/approvals.ts).
    ...(stepUp ? { stepUp: stepUpRecord(stepUp) } : {}),
    // The policy rule that decided, for the receipt of the tokens (audit/trail.ts).
    ...(obligation ? { obligation } : {}),
  };
  const interval = deps.config.main.ciba.interval_seconds;
  await openApproval(deps, { kind: 'ciba', clientId: client.client_id, sub, request, approvers, expiresIn, interval, pollToken: authReqId });

  // 7.
  return { auth_req_id: authReqId, expires_in: expiresIn, interval };
}

/** §7.1: short, plain text the person compares with what the client shows. */
function checkBindingMessage(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if ([...value].length > bindingMessageMaxLength) throw new OAuthError('invalid_binding_message', `binding_message must be at most ${bindingMessageMaxLength} characters`);
  if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u.test(value) || value.trim() !== value) throw new OAuthError('invalid_binding_message', 'binding_message must be printable text');
  return value;
}

function checkAcrValues(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.length > 512 || !/^[\x21-\x7E]+( [\x21-\x7E]+)*$/.test(value)) throw bad('acr_values is malformed');
  return [...new Set(value.split(' '))];
}

function checkRequestedExpiry(deps: Deps, value: string | undefined): number {
  const { default_expiry_seconds, max_expiry_seconds } = deps.config.main.ciba;
  if (value === undefined) return Math.min(default_expiry_seconds, max_expiry_seconds);
  if (!/^[1-9]\d{0,8}$/.test(value)) throw bad('requested_expiry must be a positive integer');
  const seconds = Number(value);
  if (seconds > max_expiry_seconds) throw bad(`requested_expiry must be at most ${max_expiry_seconds}`);
  return seconds;
}

/** §7.1: required of ping clients; a Bearer credential (RFC 6750 §2.1) of at most 1024 characters. */
function checkNotificationToken(client: ClientConfig, value: string | undefined): string | undefined {
  if (client.backchannel_token_delivery_mode !== 'ping') return undefined;
  if (value === undefined) throw bad('client_notification_token is required for ping clients');
  if (value.length > 1024 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) throw bad('client_notification_token must be a Bearer token of at most 1024 characters');
  return value;
}

/** Exactly one of login_hint_token, id_token_hint, login_hint (§7.1). */
async function resolveHint(deps: Deps, client: ClientConfig, params: Params): Promise<string> {
  const hints = (['login_hint_token', 'id_token_hint', 'login_hint'] as const).filter((name) => params.get(name) !== undefined);
  if (hints.length !== 1) throw bad('exactly one of login_hint, id_token_hint and login_hint_token is required');
  const unknown = () => new OAuthError('unknown_user_id', 'the hint does not identify a known person');
  switch (hints[0]) {
    case 'login_hint_token':
      throw bad('login_hint_token is not supported');
    case 'id_token_hint': {
      // One of our ID tokens, issued to this client (it may have expired: it is only a hint).
      const hint = await verifyIdTokenHint(deps, params.get('id_token_hint') as string);
      if (!hint || hint.clientId !== client.client_id) throw bad('id_token_hint is not an ID token this server issued to the client', 'id_token_hint_invalid');
      if (!(await deps.store.subjects.exists(hint.sub))) throw unknown();
      return hint.sub;
    }
    default: {
      // The local subject, or the one person whose canonical e-mail (verified) this is.
      const hint = (params.get('login_hint') as string).trim();
      if (hint.length === 0 || hint.length > 320) throw unknown();
      const sub = hint.includes('@') ? await deps.store.subjects.findByEmail(hint.toLowerCase()) : (await deps.store.subjects.exists(hint)) ? hint : undefined;
      if (sub === undefined) throw unknown();
      return sub;
    }
  }
}
