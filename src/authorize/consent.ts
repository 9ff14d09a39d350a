// Remembered consent, per person and client. Identity scopes are kept as they are, resource
// scopes as "<resource> <scope>" so that equal scope names of two resources never mix.
// Authorization details (RAR) are transactional (an amount, one tool call): they are shown on
// the consent page every time and never count as remembered.
import type { Deps } from '../deps.ts';
import type { ConsentRecord } from '../store/ports.ts';
import type { AuthorizationRequest } from './request.ts';

type Asked = Pick<AuthorizationRequest, 'identityScopes' | 'resource' | 'resourceScopes' | 'authorizationDetails'>;

const resourceScope = (resource: string, scope: string) => `${resource} ${scope}`;

function askedScopes(request: Asked): string[] {
  return [...request.identityScopes, ...(request.resource ? request.resourceScopes.map((s) => resourceScope(request.resource as string, s)) : [])];
}

export function consentCovers(remembered: ConsentRecord | undefined, request: Asked): boolean {
  if (!remembered || request.authorizationDetails?.length) return false;
  if (request.resource && !remembered.resources.includes(request.resource)) return false;
  return askedScopes(request).every((s) => remembered.scopes.includes(s));
}

export async function rememberConsent(deps: Deps, sub: string, request: Asked & { clientId: string }): Promise<void> {
  const previous = await deps.store.consents.find(sub, request.clientId);
  const union = (a: readonly string[] = [], b: readonly string[] = []) => [...new Set([...a, ...b])];
  // The resource itself is remembered only when the page showed a standing permission there (its
  // scopes, or "access it on your behalf"): details alone are transactional, and remembering the
  // resource for them would later cover a scope-less request the person never saw.
  const standing = request.resource !== undefined && (request.resourceScopes.length > 0 || !request.authorizationDetails?.length);
  await deps.store.consents.save({
    sub,
    clientId: request.clientId,
    scopes: union(previous?.scopes, askedScopes(request)),
    resources: union(previous?.resources, standing ? [request.resource as string] : []),
    detailsTypes: union(previous?.detailsTypes, request.authorizationDetails?.map((d) => `${request.resource ?? ''} ${d.type}`)),
    grantedAt: deps.now(),
  });
}

/** A remembered scope in words, for the account page: [resource or undefined, scope]. */
export function splitRememberedScope(value: string): [string | undefined, string] {
  const space = value.indexOf(' ');
  return space < 0 ? [undefined, value] : [value.slice(0, space), value.slice(space + 1)];
}

/** What the person allowed, per client, for their account page. */
export const consentsOf = (deps: Pick<Deps, 'store'>, sub: string): Promise<ConsentRecord[]> => deps.store.consents.list(sub);

/**
 * Withdrawing consent also ends what was issued under it: refresh tokens and their Passports.
 * Those go first: if that fails, the consent is still listed and withdrawing it again finishes the
 * job (the other way round, a retry found no consent and left the tokens alive). A receipt when
 * anything was withdrawn.
 */
export async function withdrawConsent(deps: Pick<Deps, 'store' | 'receipts' | 'now'>, sub: string, clientId: string): Promise<{ revoked: boolean; families: number }> {
  const families = await deps.store.families.revokeFamiliesOf(sub, clientId, deps.now());
  const revoked = await deps.store.consents.revoke(sub, clientId);
  if (revoked || families > 0) await deps.receipts.record({ event: 'consent.withdrawn', clientId, subject: sub, details: { families_revoked: families } });
  return { revoked, families };
}
