// What a route needs of a verified Passport: scopes (RFC 6749 §3.3, space-delimited, all needed)
// and authorization details (RFC 9396 §2: a detail of the type, with the actions, and whose
// `locations`, when present, name this resource). Pure: claims in, the missing part out.
import type { AuthorizationDetail, DetailRequirement, Passport } from './types.ts';

/** The required scopes the Passport lacks (empty when it has them all). */
export function missingScopes(passport: Passport, required: readonly string[]): string[] {
  const granted = new Set((passport.scope ?? '').split(' ').filter(Boolean));
  return required.filter((scope) => !granted.has(scope));
}

function satisfies(detail: AuthorizationDetail, requirement: DetailRequirement, resource: string): boolean {
  if (detail.type !== requirement.type) return false;
  if (detail.locations !== undefined && !detail.locations.includes(resource)) return false;
  if (requirement.actions?.length) {
    const actions = detail.actions ?? [];
    if (!requirement.actions.every((action) => actions.includes(action))) return false;
  }
  return Object.entries(requirement.where ?? {}).every(([member, value]) => detail[member] === value);
}

/** True when every requirement is met by some one detail of the Passport. */
export function hasAuthorizationDetails(passport: Passport, required: readonly DetailRequirement[], resource: string): boolean {
  const details = passport.authorization_details ?? [];
  return required.every((requirement) => details.some((detail) => satisfies(detail, requirement, resource)));
}
