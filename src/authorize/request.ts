// The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), checked in two stages:
// 1 `resolveTarget`: the client and where errors may go (redirect_uri, response_mode, state);
//   a failure here must never redirect (RFC 6749 §4.1.2.1), the caller renders a page.
// 2 `validateRequest`: everything else; a failure is an OAuthError sent to the redirect URI.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { checkAuthorizationDetails, type AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import { isIdentityScope } from '../oauth/identity-scopes.ts';
import type { Params } from '../oauth/params.ts';
import { parseScope } from '../oauth/params.ts';
import { checkPkceChallenge } from '../oauth/pkce.ts';
import { matchRedirectUri } from '../oauth/redirect-uri.ts';
import { narrowScopes, selectResource } from '../oauth/resource.ts';

export const responseModes = ['query', 'form_post', 'jwt', 'query.jwt', 'form_post.jwt'] as const;
export type ResponseMode = 'query' | 'form_post' | 'query.jwt' | 'form_post.jwt';
export const prompts = ['none', 'login', 'consent'] as const;
export type Prompt = (typeof prompts)[number];

/** Where the answer goes. Known good before anything is redirected. */
export type Target = { clientId: string; redirectUri: string; responseMode: ResponseMode; state?: string | undefined };

export type AuthorizationRequest = Target & {
  codeChallenge: string;
  nonce?: string | undefined;
  identityScopes: string[];
  resource?: string | undefined;
  resourceScopes: string[];
  authorizationDetails?: AuthorizationDetail[] | undefined;
  prompt: Prompt[];
  maxAge?: number | undefined;
  loginHint?: string | undefined;
  acrValues?: string[] | undefined;
  /** RFC 9449 §10: the code will be redeemable only with a DPoP proof by this key. */
  dpopJkt?: string | undefined;
};

/** An error that must be shown to the person, never redirected. */
export class AuthorizePageError extends Error {
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'AuthorizePageError';
  }
}

const maxLength = 2048;

export function resolveTarget(client: ClientConfig, params: Params): Target {
  if (!client.grant_types.includes('authorization_code')) {
    throw new AuthorizePageError('Unknown application', 'This application may not sign people in here.', 'client_without_authorization_code');
  }
  const redirectUri = params.get('redirect_uri');
  if (redirectUri === undefined || redirectUri.length > maxLength || !matchRedirectUri(redirectUri, client.redirect_uris)) {
    throw new AuthorizePageError('Invalid return address', 'The application asked to send you to an address it has not registered.', 'redirect_uri_mismatch');
  }
  const state = params.get('state');
  if (state !== undefined && state.length > maxLength) throw new AuthorizePageError('Invalid request', 'The request is too large.', 'state_too_long');
  const mode = params.get('response_mode');
  // An unknown mode is reported through the default one (query) rather than not at all.
  const responseMode: ResponseMode = mode === 'jwt' ? 'query.jwt' : mode && (responseModes as readonly string[]).includes(mode) ? (mode as ResponseMode) : 'query';
  return { clientId: client.client_id, redirectUri, responseMode, ...(state !== undefined ? { state } : {}) };
}

export function validateRequest(deps: Deps, client: ClientConfig, params: Params, target: Target): AuthorizationRequest {
  const mode = params.get('response_mode');
  if (mode !== undefined && !(responseModes as readonly string[]).includes(mode)) throw new OAuthError('invalid_request', 'response_mode is not supported');
  const responseType = params.get('response_type');
  if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');

  const pkce = checkPkceChallenge(params.get('code_challenge'), params.get('code_challenge_method'));
  if (!pkce.ok) throw new OAuthError('invalid_request', pkce.description);

  const { identityScopes, resource, resourceScopes, authorizationDetails } = validateAsk(deps, client, params);

  const prompt = parseScope(params.get('prompt')) as Prompt[];
  if (prompt.some((p) => !(prompts as readonly string[]).includes(p))) throw new OAuthError('invalid_request', 'prompt value is not supported');
  if (prompt.includes('none') && prompt.length > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined');

  const rawMaxAge = params.get('max_age');
  if (rawMaxAge !== undefined && !/^\d{1,9}$/.test(rawMaxAge)) throw new OAuthError('invalid_request', 'max_age must be a non-negative integer');
  const nonce = params.get('nonce');
  const loginHint = params.get('login_hint');
  const acr = params.get('acr_values');
  for (const [name, value] of [['nonce', nonce], ['login_hint', loginHint], ['acr_values', acr]] as const) {
    if (value !== undefined && value.length > 512) throw new OAuthError('invalid_request', `${name} is too long`);
  }

  // RFC 9449 §10: a JWK SHA-256 thumbprint (base64url of 32 bytes).
  const dpopJkt = params.get('dpop_jkt');
  if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) throw new OAuthError('invalid_request', 'dpop_jkt must be a JWK SHA-256 thumbprint');

  return {
    ...target,
    codeChallenge: params.get('code_challenge') as string,
    ...(dpopJkt !== undefined ? { dpopJkt } : {}),
    nonce,
    identityScopes,
    resource,
    resourceScopes,
    authorizationDetails,
    prompt,
    maxAge: rawMaxAge === undefined ? undefined : Number(rawMaxAge),
    loginHint,
    acrValues: acr?.split(' ').filter(Boolean),
  };
}

/** What a person is asked to grant (scope, resource, authorization_details); shared with the device flow. */
export type Ask = Pick<AuthorizationRequest, 'identityScopes' | 'resource' | 'resourceScopes' | 'authorizationDetails'>;

export function validateAsk(deps: Deps, client: ClientConfig, params: Params): Ask {
  // Scopes: identity scopes are Consulate's own; the rest belong to the resource.
  const scopes = parseScope(params.get('scope'));
  const identityScopes = scopes.filter(isIdentityScope);
  const askedResourceScopes = scopes.filter((s) => !isIdentityScope(s));
  const resourceParams = params.all('resource');
  const details = params.get('authorization_details');
  // MCP clients (and clients the operator marks) always name the resource (RFC 8707); no default.
  if (client.require_resource && resourceParams.length === 0) throw new OAuthError('invalid_target', 'resource is required');
  let resource: string | undefined;
  let resourceScopes: string[] = [];
  let authorizationDetails: AuthorizationDetail[] | undefined;
  if (resourceParams.length || askedResourceScopes.length || details !== undefined) {
    resource = selectResource(resourceParams, Object.keys(client.resources), new Set(deps.config.resources.keys()), client.default_resource);
    const allowed = client.resources[resource];
    if (!allowed) throw new OAuthError('invalid_target', 'resource is unknown or not allowed for this client');
    resourceScopes = askedResourceScopes.length ? narrowScopes(askedResourceScopes, allowed.scopes) : [];
    if (details !== undefined) {
      const check = checkAuthorizationDetails(details, deps.detailsTypes.get(resource) ?? new Map(), allowed.authorization_details_types);
      if (!check.ok) throw new OAuthError('invalid_authorization_details', check.detail, { reason: check.reason });
      authorizationDetails = check.details;
    }
  }
  if (!identityScopes.length && !resourceScopes.length && !authorizationDetails) throw new OAuthError('invalid_scope', 'scope is required');
  return { identityScopes, resource, resourceScopes, authorizationDetails };
}
