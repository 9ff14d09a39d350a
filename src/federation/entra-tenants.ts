// Entra multi-tenant authorities (pure, no I/O). An app registered for "any organisation" signs
// people in at <host>/organizations/v2.0 (or /common/v2.0, which adds personal accounts). Its
// discovery document names no issuer but a template, <host>/{tenantid}/v2.0, and each ID token
// says its tenant in `tid` and carries iss = the template with that tenant filled in.
// Every tenant's tokens are signed by the same keys: the signature proves Entra, not the tenant.

export const tenantPlaceholder = '{tenantid}';

const multiTenantPath = /^\/(organizations|common)\/v2\.0\/?$/;
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isTenantId = (value: unknown): value is string => typeof value === 'string' && guid.test(value);

/** The configured issuer is Entra's multi-tenant authority (…/organizations/v2.0 or …/common/v2.0). */
export function isMultiTenantAuthority(kind: string, issuer: string): boolean {
  if (kind !== 'entra') return false;
  try {
    return multiTenantPath.test(new URL(issuer).pathname);
  } catch {
    return false;
  }
}

/** The issuer template the authority's discovery document must announce: <origin>/{tenantid}/v2.0. */
export const issuerTemplate = (authority: string): string => `${new URL(authority).origin}/${tenantPlaceholder}/v2.0`;

/** Where the authority's discovery document is: under the authority, as for any issuer. */
export const authorityDiscoveryUrl = (authority: string): URL => new URL(`${authority.replace(/\/$/, '')}/.well-known/openid-configuration`);

export type TenantCheck = { ok: true; issuer: string } | { ok: false; reason: 'tid_not_a_tenant_id' | 'tenant_not_allowed' };

/**
 * The issuer an ID token claiming tenant `tid` must carry, once `tid` is a tenant id (a GUID) and,
 * when the operator listed tenants, one of them. The caller still compares it with the token's iss.
 */
export function expectedTenantIssuer(template: string, tid: unknown, allowedTenants: readonly string[] | undefined): TenantCheck {
  if (!isTenantId(tid)) return { ok: false, reason: 'tid_not_a_tenant_id' };
  if (allowedTenants && !allowedTenants.some((t) => t.toLowerCase() === tid.toLowerCase())) return { ok: false, reason: 'tenant_not_allowed' };
  return { ok: true, issuer: template.replace(tenantPlaceholder, tid) };
}
