// What a person granted a client at /authorize: stored (as IssuedGrant) behind an authorization
// code and, after redemption, behind each refresh token of the family. The authorize service
// writes it; the authorization_code and refresh_token grants read it.
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { IssuedGrant } from '../store/ports.ts';
import { readObligation, type TrailObligation } from '../audit/trail.ts';

export type PersonGrant = {
  sub: string;
  clientId: string;
  /** openid, profile, email, groups, offline_access: Consulate's own (ID token, userinfo). */
  identityScopes: string[];
  /** The one resource (RFC 8707) the Passport is for; absent: the Passport is for userinfo only. */
  resource?: string | undefined;
  resourceScopes: string[];
  authorizationDetails?: AuthorizationDetail[] | undefined;
  /** From the authorization request; code only, not carried into refreshes. */
  nonce?: string | undefined;
  redirectUri: string;
  codeChallenge: string;
  /** Upstream authentication: time, acr and amr as checked at login. */
  authTime: number;
  acr?: string | undefined;
  amr?: string[] | undefined;
  /** Session id (OIDC `sid`) of the browser session the grant was made in. */
  sid: string;
  /** Canonical claims of the login, before selection by scope. */
  claims: Record<string, unknown>;
  /**
   * DPoP key thumbprint the grant is bound to (RFC 9449): on a code, `dpop_jkt` from the
   * authorization request; on a refresh token, the key it was issued with (public clients, and
   * clients registered with dpop_bound_access_tokens). Its next use needs a proof by that key.
   */
  dpopJkt?: string | undefined;
  /** The policy (config/policies/) that decided at /authorize, for the receipts of the tokens. */
  obligation?: TrailObligation | undefined;
};

export const toIssuedGrant = (grant: PersonGrant): IssuedGrant => ({ ...grant });

/** The stored record is our own JSON; still, only known keys are read back. */
export function fromIssuedGrant(stored: IssuedGrant): PersonGrant {
  const g = stored as Partial<PersonGrant>;
  if (typeof g.sub !== 'string' || typeof g.clientId !== 'string' || typeof g.sid !== 'string' || typeof g.authTime !== 'number') {
    throw new Error('stored grant is malformed');
  }
  return {
    sub: g.sub,
    clientId: g.clientId,
    identityScopes: Array.isArray(g.identityScopes) ? g.identityScopes : [],
    resource: g.resource,
    resourceScopes: Array.isArray(g.resourceScopes) ? g.resourceScopes : [],
    authorizationDetails: g.authorizationDetails,
    nonce: g.nonce,
    redirectUri: String(g.redirectUri ?? ''),
    codeChallenge: String(g.codeChallenge ?? ''),
    authTime: g.authTime,
    acr: g.acr,
    amr: g.amr,
    sid: g.sid,
    claims: g.claims && typeof g.claims === 'object' ? g.claims : {},
    dpopJkt: typeof g.dpopJkt === 'string' ? g.dpopJkt : undefined,
    obligation: readObligation(g.obligation),
  };
}
