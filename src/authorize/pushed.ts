// Pushed authorization requests (RFC 9126) and the first step of /authorize.
// A push is validated exactly as /authorize validates, then stored hashed and bound to the
// client. Its request_uri is bound to the first browser that presents it, which may present it
// again (a reload before sign-in ends) until the authorization is answered or the request_uri
// expires; another browser may not, and once answered it is used up (RFC 9126 §4, §7.3; FAPI 2.0).
// At /authorize, a request_uri or request object replaces the browser's parameters. Errors about a
// request_uri are pages, never redirects: until the pushed request is found, there is no verified
// redirect_uri to send them to (RFC 9126 §4).
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import { repeatableParams, type Params } from '../oauth/params.ts';
import type { DpopBinding } from '../dpop/request.ts';
import { paramsFrom, readRequestObject } from './request-object.ts';
import { AuthorizePageError, resolveTarget, validateRequest } from './request.ts';

export const requestUriPrefix = 'urn:ietf:params:oauth:request_uri:';

/** Client authentication travels with the push (RFC 9126 §2.1) but is not part of the request. */
const authenticationParams = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/** The JSON answer of RFC 9126 §2.2 for what /authorize would refuse as a page (§2.3). */
const pushErrors: ReadonlyMap<string, [OAuthError['code'], string]> = new Map([
  ['client_without_authorization_code', ['unauthorized_client', 'this client may not use the authorization code flow']],
  ['redirect_uri_mismatch', ['invalid_request', 'redirect_uri is missing or not registered for this client']],
  ['state_too_long', ['invalid_request', 'state is too long']],
]);

/** `dpop`: the key of the PAR request's DPoP proof (RFC 9449 §10.1), which binds the code like dpop_jkt. */
export async function pushAuthorizationRequest(deps: Deps, client: ClientConfig, params: Params, dpop?: DpopBinding): Promise<{ request_uri: string; expires_in: number }> {
  if (params.get('request_uri') !== undefined) throw new OAuthError('invalid_request', 'request_uri must not be pushed');
  const clientId = params.get('client_id');
  if (clientId !== undefined && clientId !== client.client_id) throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');
  const jwt = params.get('request');
  const request = jwt === undefined ? withClientId(params, client.client_id) : await readRequestObject(deps, client, jwt);
  try {
    validateRequest(deps, client, request, resolveTarget(client, request));
  } catch (error) {
    if (!(error instanceof AuthorizePageError)) throw error;
    const [code, description] = pushErrors.get(error.reason) ?? ['invalid_request', error.detail];
    throw new OAuthError(code, description, { reason: error.reason });
  }

  const record = toRecord(request);
  if (dpop) {
    if (record.dpop_jkt !== undefined && record.dpop_jkt !== dpop.jkt) throw new OAuthError('invalid_dpop_proof', 'dpop_jkt does not match the DPoP proof\'s key', { reason: 'par_dpop_jkt_mismatch' });
    record.dpop_jkt = dpop.jkt;
  }
  const id = randomId();
  const ttl = deps.config.main.authorization.par_ttl_seconds;
  await deps.store.authorizations.savePushed({ idHash: hashId(id), clientId: client.client_id, params: record, expiresAt: deps.now() + ttl });
  return { request_uri: requestUriPrefix + id, expires_in: ttl };
}

/** The parameters /authorize works with; `pushed`: the hashed id of the pushed request they came from. */
export type AuthorizeParams = Params & { readonly pushed?: string | undefined };

/**
 * The parameters /authorize works with, for a client found by the outer client_id, presented by
 * the browser `browserId`: the pushed ones for a request_uri (used up when presented by another
 * client, so that a leaked request_uri dies on first misuse), the request object's for `request`,
 * else the outer ones. Every error is an AuthorizePageError: nothing here may be redirected.
 */
export async function resolveAuthorizeParams(deps: Deps, client: ClientConfig, params: Params, browserId: string): Promise<AuthorizeParams> {
  if (params.get('client_id') !== client.client_id) throw new AuthorizePageError('Invalid request', 'The request does not name this application.', 'client_id_mismatch');
  const requestUri = params.get('request_uri');
  const jwt = params.get('request');
  if (requestUri !== undefined && jwt !== undefined) throw new AuthorizePageError('Invalid request', 'The application sent a request in two forms at once.', 'request_and_request_uri');
  if (requestUri !== undefined) return presentPushed(deps, client, requestUri, browserId);
  if (client.require_par) {
    throw new AuthorizePageError('Invalid request', 'This application must start sign-in from its own server. Go back to the application and try again.', 'par_required');
  }
  if (jwt === undefined) return params;
  try {
    return await readRequestObject(deps, client, jwt);
  } catch (error) {
    if (!isOAuthError(error)) throw error;
    const page = new AuthorizePageError('Invalid request', 'The application sent a request that could not be verified.', 'invalid_request_object');
    page.cause = error; // which check failed, for the log
    throw page;
  }
}

const requestUriRefusals = {
  expired: ['Request expired', 'This sign-in request has expired; start again from the app.'],
  used: ['Request already used', 'This sign-in request has already been used. Start again from the app.'],
  unknown: ['Invalid request', 'This sign-in request is not known here. Start again from the app.'],
} as const;

async function presentPushed(deps: Deps, client: ClientConfig, requestUri: string, browserId: string): Promise<AuthorizeParams> {
  const refuse = (words: keyof typeof requestUriRefusals, reason: string, level: 'info' | 'warn' = 'info') => {
    deps.log[level]({ client_id: client.client_id, reason }, 'request_uri refused');
    const [title, detail] = requestUriRefusals[words];
    return new AuthorizePageError(title, detail, 'invalid_request_uri');
  };
  const id = requestUri.startsWith(requestUriPrefix) ? requestUri.slice(requestUriPrefix.length) : '';
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) throw refuse('unknown', 'request_uri_malformed');
  const presented = await deps.store.authorizations.presentPushed(hashId(id), client.client_id, hashId(browserId), deps.now());
  switch (presented.status) {
    case 'ok':
      return { ...fromRecord(presented.request.params, client.client_id), pushed: presented.request.idHash };
    case 'expired':
      throw refuse('expired', 'request_uri_expired');
    case 'completed':
      throw refuse('used', 'request_uri_completed');
    // Another browser: the request_uri is single use across browsers (RFC 9126 §7.3).
    case 'other_browser':
      throw refuse('used', 'request_uri_other_browser');
    // Another client: it is used up now.
    case 'other_client':
      throw refuse('used', 'request_uri_other_client', 'warn');
    case 'unknown':
      throw refuse('unknown', 'request_uri_unknown');
  }
}

function withClientId(params: Params, clientId: string): Params {
  const values = new Map<string, string[]>();
  for (const name of params.names()) if (!authenticationParams.has(name)) values.set(name, params.all(name));
  values.set('client_id', [clientId]);
  return paramsFrom(values);
}

function toRecord(params: Params): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const name of params.names()) {
    if (name === '__proto__' || authenticationParams.has(name)) continue;
    const all = params.all(name);
    record[name] = repeatableParams.has(name) ? all : (all[0] as string);
  }
  return record;
}

function fromRecord(record: Record<string, string | string[]>, clientId: string): Params {
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(record)) {
    if (name === '__proto__') continue;
    const list = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
    if (list.length) values.set(name, list);
  }
  values.set('client_id', [clientId]);
  return paramsFrom(values);
}
