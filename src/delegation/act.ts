// The actor chain (RFC 8693 §4.1): `act.sub` is who acts now, `act.act` who acted before it.
// A new actor is put on top and the existing chain nested under it, never replaced. Pure.

export type ActClaim = { sub: string; iss?: string; act?: ActClaim };

const maxDepth = 10;

/** Parses an `act` claim from a verified token; undefined when absent, 'invalid' when malformed or deeper than any policy allows. */
export function parseAct(value: unknown, depth = 1): ActClaim | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value) || depth > maxDepth) return 'invalid';
  const record = value as Record<string, unknown>;
  if (typeof record.sub !== 'string' || record.sub.length === 0) return 'invalid';
  if (record.iss !== undefined && typeof record.iss !== 'string') return 'invalid';
  const inner = parseAct(record.act, depth + 1);
  if (inner === 'invalid') return 'invalid';
  return { sub: record.sub, ...(typeof record.iss === 'string' ? { iss: record.iss } : {}), ...(inner ? { act: inner } : {}) };
}

/** Actors from the current one down to the first. */
export function actorsOf(act: ActClaim | undefined): string[] {
  const actors: string[] = [];
  for (let at = act; at; at = at.act) actors.push(at.sub);
  return actors;
}

export const nestAct = (actor: string, previous: ActClaim | undefined): ActClaim => ({ sub: actor, ...(previous ? { act: previous } : {}) });

/** RFC 8693 §4.4: `may_act` names who may act for the subject; absent, the policy alone decides. */
export function mayAct(mayActClaim: unknown, actor: string, issuer: string): boolean {
  if (mayActClaim === undefined) return true;
  if (!mayActClaim || typeof mayActClaim !== 'object' || Array.isArray(mayActClaim)) return false;
  const claim = mayActClaim as Record<string, unknown>;
  if (claim.sub !== actor) return false;
  return claim.iss === undefined || claim.iss === issuer;
}
