// The built-in mapping per upstream kind that the rule-set presets replaced, kept as the test
// oracle that the presets reproduce it (presets.test.ts). Not used by the server.
// Reads only named own properties of the upstream claims; arrays are capped; nothing is evaluated.
import type { UpstreamConfig } from '../../../src/config/schema.ts';
import type { CanonicalClaims } from '../../../src/claims/canonical.ts';

export type UpstreamClaims = Readonly<Record<string, unknown>>;

const maxListItems = 200;

const text = (claims: UpstreamClaims, name: string): string | undefined => {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  return typeof value === 'string' && value.length > 0 && value.length <= 1024 ? value : undefined;
};
const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length <= 256).slice(0, maxListItems) : [];

/** Auth0 puts custom claims under a namespace URL: https://<tenant-chosen>/roles. */
const namespaced = (claims: UpstreamClaims, suffix: string): string[] =>
  Object.keys(claims)
    .filter((key) => /^https?:\/\//.test(key) && key.endsWith(`/${suffix}`))
    .flatMap((key) => list(claims[key]));

export function mapDefaultClaims(kind: UpstreamConfig['kind'], upstreamId: string, issuer: string, claims: UpstreamClaims): CanonicalClaims {
  const sub = text(claims, 'sub') as string;
  const email = text(claims, 'email') ?? (kind === 'entra' ? text(claims, 'preferred_username') : undefined);
  const authTime = Object.hasOwn(claims, 'auth_time') && typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const amr = list(claims.amr);
  const base: CanonicalClaims = {
    orig_iss: issuer,
    // Entra's `sub` is pairwise per application; `oid` names the person across the tenant.
    orig_sub: kind === 'entra' ? (text(claims, 'oid') ?? sub) : sub,
    upstream: upstreamId,
    email_verified: false,
    groups: [],
    roles: [],
    ...(email ? { email: email.toLowerCase() } : {}),
    ...(text(claims, 'name') ? { name: text(claims, 'name') } : {}),
    ...(text(claims, 'acr') ? { acr: text(claims, 'acr') } : {}),
    ...(amr.length ? { amr } : {}),
    ...(authTime !== undefined ? { auth_time: authTime } : {}),
  };
  switch (kind) {
    case 'entra':
      // Entra asserts a verified e-mail domain owner with xms_edov; it has no email_verified.
      return { ...base, email_verified: claims.xms_edov === true && Boolean(email), groups: list(claims.groups), roles: list(claims.roles), ...(text(claims, 'tid') ? { tenant: text(claims, 'tid') } : {}) };
    case 'okta':
      return { ...base, email_verified: claims.email_verified === true, groups: list(claims.groups) };
    case 'auth0':
      return { ...base, email_verified: claims.email_verified === true, roles: namespaced(claims, 'roles'), groups: namespaced(claims, 'groups') };
    case 'oidc':
      return { ...base, email_verified: claims.email_verified === true, groups: list(claims.groups), roles: list(claims.roles) };
  }
}
