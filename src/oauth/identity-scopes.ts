// OpenID Connect scopes (Core §5.4) and the canonical claims each releases. These are asked of
// Consulate itself, not of a resource; `offline_access` asks for a refresh token (Core §11).
export const identityScopeClaims: Readonly<Record<string, readonly string[]>> = Object.freeze({
  openid: ['sub', 'orig_iss', 'orig_sub'],
  profile: ['name'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
  offline_access: [],
});

export const identityScopes: readonly string[] = Object.keys(identityScopeClaims);

export const isIdentityScope = (scope: string): boolean => Object.hasOwn(identityScopeClaims, scope);

/** The claims released for these scopes, taken from `claims` (own properties only). */
export function claimsForScopes(claims: Readonly<Record<string, unknown>>, scopes: readonly string[]): Record<string, unknown> {
  const released: Record<string, unknown> = {};
  for (const scope of scopes) {
    for (const name of isIdentityScope(scope) ? (identityScopeClaims[scope] as readonly string[]) : []) if (Object.hasOwn(claims, name) && claims[name] !== undefined) released[name] = claims[name];
  }
  return released;
}
