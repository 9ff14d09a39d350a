// OpenID Connect scopes (Core §5.4) and the canonical claims each releases. These are asked of
// Consulate itself, not of a resource; `offline_access` asks for a refresh token (Core §11).
export const identityScopeClaims: Readonly<Record<string, readonly string[]>> = Object.freeze({
  openid: ['sub', 'orig_iss', 'orig_sub'],
  profile: ['name'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
  offline_access: [],
  /** Consulate's own: decide approval requests through the inbox's JSON API (releases no claims). */
  approvals: [],
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

const standardClaims: ReadonlySet<string> = new Set(Object.values(identityScopeClaims).flat());
const provenance = ['orig_iss', 'orig_sub'] as const;
const alwaysWithOpenid: readonly string[] = ['sub', ...provenance];

/**
 * What a client receives in its ID token and at userinfo. Standard claims follow the granted
 * scopes; a client with a `selection` (its config's `claims`) gets only the standard claims it
 * lists, plus the other canonical claims it lists (roles, tenant, …) when `openid` was granted.
 * Provenance (orig_iss, orig_sub) always goes with `openid`. Own properties only.
 */
export function releasedClaims(claims: Readonly<Record<string, unknown>>, scopes: readonly string[], selection?: readonly string[]): Record<string, unknown> {
  const released = claimsForScopes(claims, scopes);
  if (!selection) return released;
  for (const name of Object.keys(released)) if (!selection.includes(name) && !alwaysWithOpenid.includes(name)) delete released[name];
  if (!scopes.includes('openid')) return released;
  for (const name of selection) {
    if (!standardClaims.has(name) && Object.hasOwn(claims, name) && claims[name] !== undefined) released[name] = claims[name];
  }
  return released;
}

/** What a person's Passport carries besides protocol claims: provenance, and the canonical claims the client's selection names. */
export function passportIdentityClaims(claims: Readonly<Record<string, unknown>>, selection: readonly string[] = []): Record<string, unknown> {
  const carried: Record<string, unknown> = {};
  for (const name of [...provenance, ...selection]) if (Object.hasOwn(claims, name) && claims[name] !== undefined) carried[name] = claims[name];
  return carried;
}
