// APIs the stand-in IdPs issue access tokens for (RFC 8707 resource indicators), and the claims
// each kind puts in those access tokens, so that tests can get real upstream access tokens:
// JWT (typ at+jwt, signed with the stand-in's key) or opaque (Okta: checked at its RFC 7662
// introspection endpoint, which answers with the same claims). Without `apis`, a `resource`
// parameter is refused as before. Demo and tests only.
import type { UpstreamAccount, UpstreamKind } from './upstream-accounts.ts';

/** An API at the stand-in: `resource` is the RFC 8707 indicator, and the access token's `aud`. */
export type UpstreamApi = { resource: string; scopes: string[]; format?: 'jwt' | 'opaque' };

type ResourceServerInfo = { scope: string; audience: string; accessTokenFormat: 'jwt' | 'opaque'; accessTokenTTL: number; jwt?: { sign: { alg: 'RS256' } } };

/** oidc-provider `features.resourceIndicators`: only the listed APIs; anything else is an invalid_target. */
export function resourceIndicators(apis: readonly UpstreamApi[], invalidTarget: () => Error) {
  return {
    enabled: true,
    defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
    useGrantedResource: async () => false,
    async getResourceServerInfo(_ctx: unknown, indicator: string): Promise<ResourceServerInfo> {
      const api = apis.find((a) => a.resource === indicator);
      if (!api) throw invalidTarget();
      const format = api.format ?? 'jwt';
      return { scope: api.scopes.join(' '), audience: api.resource, accessTokenFormat: format, accessTokenTTL: 3600, ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}) };
    },
  };
}

const pick = (claims: Record<string, unknown>, names: readonly string[]) => Object.fromEntries(names.filter((n) => claims[n] !== undefined).map((n) => [n, claims[n]]));

/**
 * What each kind adds to a person's access tokens (oidc-provider `extraTokenClaims`; `sub` stays
 * the account id, as in its ID tokens):
 *   entra  ver 2.0, oid, tid, name, preferred_username, groups, roles (no e-mail, as at Entra)
 *   okta   ver 1, uid, groups
 *   auth0  the namespaced custom claims its Actions add
 *   oidc   nothing
 */
export function accessTokenClaims(kind: UpstreamKind, account: UpstreamAccount | undefined): Record<string, unknown> | undefined {
  if (!account) return undefined;
  switch (kind) {
    case 'entra':
      return { ver: '2.0', ...pick(account.claims, ['oid', 'tid', 'name', 'preferred_username', 'groups', 'roles']) };
    case 'okta':
      return { ver: 1, ...pick(account.claims, ['uid', 'groups']) };
    case 'auth0':
      return pick(account.claims, Object.keys(account.claims).filter((k) => /^https?:\/\//.test(k)));
    case 'oidc':
      return undefined;
  }
}
