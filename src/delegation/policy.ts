// The one delegation policy: "may this actor get this, for this subject?" — asked the same way by
// client credentials, token exchange, JWT bearer and ID-JAG (and, later, CIBA and device code), so
// no grant can decide differently. Pure: config and facts in, a verdict out. The verdict's
// `reason` goes to the log and the audit record; `description` is what the wire may say.
import type { ClientConfig } from '../config/schema.ts';
import type { OAuthErrorCode } from '../oauth/errors.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import { actionsOf } from './details.ts';
import { inSpanSync } from '../tracing/spans.ts';

/** Who is represented: a person (with their canonical claims) or a client acting for itself. */
export type Represented = { kind: 'person'; sub: string; claims: Readonly<Record<string, unknown>> } | { kind: 'client'; clientId: string };

export type DelegationAsk = {
  actor: ClientConfig;
  /** Absent: the actor for itself (client credentials). */
  subject?: Represented | undefined;
  resource: string;
  scopes: readonly string[];
  details: readonly AuthorizationDetail[];
  /** The actor chain of the Passport to be minted, current actor first (empty for the actor's own). */
  chain: readonly string[];
  /** The lifecycle state in force of each client of `chain` that config lists (agents/state.ts chainStates). */
  states: ReadonlyMap<string, ClientConfig['state']>;
  /** Passport lifetime the resource and server would give. */
  ttlSeconds: number;
  /** Whether the request carries a DPoP proof (RFC 9449). */
  dpop: boolean;
  clients: ReadonlyMap<string, ClientConfig>;
};

export type Verdict =
  | { ok: true; ttlSeconds: number }
  | { ok: false; code: OAuthErrorCode; reason: string; description: string };

export type Refusal = Extract<Verdict, { ok: false }>;

const refuse = (code: OAuthErrorCode, reason: string, description: string): Refusal => ({ ok: false, code, reason, description });

/**
 * Agents that are suspended or retired get nothing; other clients are always active. `client.state`
 * must be the state in force (clients/directory.ts resolves it), not only the config file's.
 */
export const isActive = (client: Pick<ClientConfig, 'state'> | undefined): boolean => client !== undefined && client.state === 'active';

/** The verdict, as a `delegation.decide` span when tracing is on (outcome and error code only). */
export function decideDelegation(ask: DelegationAsk): Verdict {
  return inSpanSync('delegation.decide', (span) => {
    const verdict = decide(ask);
    span?.setAttributes(verdict.ok ? { 'consulate.outcome': 'allow' } : { 'consulate.outcome': 'deny', 'consulate.error_code': verdict.code });
    return verdict;
  });
}

function decide(ask: DelegationAsk): Verdict {
  const { actor } = ask;
  // 1. Every actor of the chain is still active (a suspended agent up the chain ends it).
  const inactive = refuseInactive(actor, ask.chain, ask.states);
  if (inactive) return inactive;
  // 2. Whom it may act for.
  if (ask.subject && !mayRepresent(actor, ask.subject)) return refuse('invalid_grant', 'subject_not_allowed', 'this client may not act for the subject of the token');
  // 3. Where, and with what.
  const allowed = actor.resources[ask.resource];
  if (!allowed) return refuse('invalid_target', 'resource_not_allowed', 'the resource is not allowed for this client');
  const refused = ask.scopes.filter((scope) => !allowed.scopes.includes(scope));
  if (refused.length) return refuse('invalid_scope', 'scope_not_allowed', `scope not allowed by this client's policy: ${refused.slice(0, 5).join(' ').slice(0, 200)}`);
  for (const detail of ask.details) {
    if (!allowed.authorization_details_types.includes(detail.type)) return refuse('invalid_authorization_details', 'details_type_not_allowed', `authorization_details type "${detail.type.slice(0, 100)}" is not allowed by this client's policy`);
    const permitted = allowed.actions[detail.type];
    const actions = actionsOf(detail);
    if (permitted && (actions === undefined || actions.some((a) => typeof a !== 'string' || !permitted.includes(a)))) {
      return refuse('invalid_authorization_details', 'details_action_not_allowed', `authorization_details of type "${detail.type.slice(0, 100)}" must name actions among: ${permitted.join(', ')}`);
    }
  }
  // 4. How long a chain: every agent in it sets its own limit.
  const tooLong = refuseLongChain(ask.chain, ask.clients);
  if (tooLong) return tooLong;
  // 5. Sender-constrained only, when the policy says so.
  if (actor.delegation?.dpop === 'required' && !ask.dpop) return refuse('invalid_request', 'dpop_required', 'this client must present a DPoP proof (RFC 9449)');
  // 6. Lifetime.
  const cap = actor.delegation?.max_ttl_seconds;
  return { ok: true, ttlSeconds: cap === undefined ? ask.ttlSeconds : Math.min(cap, ask.ttlSeconds) };
}

/**
 * "May this actor act for this subject at all?", for a grant that names no resource of ours (an
 * ID-JAG, for another authorization server): decideDelegation's steps 1, 2 and 4, same verdicts.
 */
export function mayActFor(
  actor: ClientConfig,
  subject: Represented,
  chain: readonly string[],
  states: ReadonlyMap<string, ClientConfig['state']>,
  clients: ReadonlyMap<string, ClientConfig>,
): Refusal | undefined {
  const inactive = refuseInactive(actor, chain, states);
  if (inactive) return inactive;
  if (!mayRepresent(actor, subject)) return refuse('invalid_grant', 'subject_not_allowed', 'this client may not act for the subject of the token');
  return refuseLongChain(chain, clients);
}

function refuseInactive(actor: ClientConfig, chain: readonly string[], states: ReadonlyMap<string, ClientConfig['state']>): Refusal | undefined {
  if (!isActive(actor)) return refuse('unauthorized_client', `actor_${actor.state}`, `this agent is ${actor.state}`);
  for (const id of chain) {
    if (states.get(id) !== 'active') return refuse('invalid_grant', 'chain_actor_inactive', 'an actor of the subject token\'s chain is no longer active');
  }
  return undefined;
}

function refuseLongChain(chain: readonly string[], clients: ReadonlyMap<string, ClientConfig>): Refusal | undefined {
  for (const id of chain) {
    const limit = clients.get(id)?.delegation?.max_chain;
    if (limit !== undefined && chain.length > limit) return refuse('invalid_grant', 'chain_too_long', `the actor chain would be longer than ${limit}, the limit of ${id}`);
  }
  return undefined;
}

function mayRepresent(actor: ClientConfig, subject: Represented): boolean {
  const rules = actor.delegation?.act_for;
  if (!rules) return false;
  if (subject.kind === 'client') return rules.clients.includes(subject.clientId);
  if (rules.anyone) return true;
  const email = typeof subject.claims.email === 'string' ? subject.claims.email.toLowerCase() : undefined;
  if (rules.people.some((p) => p === subject.sub || (email !== undefined && p.toLowerCase() === email))) return true;
  const groups = Array.isArray(subject.claims.groups) ? subject.claims.groups.filter((g): g is string => typeof g === 'string') : [];
  return rules.groups.some((g) => groups.includes(g));
}
