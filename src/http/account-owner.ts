// Who owns which agent, for the account pages: an agent's `owner:` is a person's canonical e-mail,
// compared case-insensitively, unless the upstream said it is unverified (then it owns nothing).
import type { Deps } from '../deps.ts';

const verifiedEmail = (claims: Record<string, unknown>): string | undefined =>
  typeof claims.email === 'string' && claims.email && claims.email_verified !== false ? claims.email.toLowerCase() : undefined;

/** The agents this person owns (client ids). */
export function ownedAgents(deps: Deps, claims: Record<string, unknown>): string[] {
  const email = verifiedEmail(claims);
  if (email === undefined) return [];
  return [...deps.config.clients.values()].filter((c) => c.kind === 'agent' && c.owner?.toLowerCase() === email).map((c) => c.client_id);
}
