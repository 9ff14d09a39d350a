// What the guard has learnt from the transmitter's signals, kept in memory: delegations revoked or
// spent, agents suspended or retired, Passports revoked. `apply` takes one verified SET's event and
// says which cached introspection answers to forget; `refuses` says whether a Passport that is
// otherwise valid must be refused now (its `did`, its jti, or an agent as client, subject or anywhere
// in its `act` chain). Bounded: entries are remembered for `rememberSeconds` (past the longest
// Passport lifetime), and at most `maxEntries` of each kind. Pure apart from its own state.
import { createTtlCache } from './ttl-cache.ts';
import type { Passport } from './types.ts';

const caep = 'https://schemas.openid.net/secevent/caep/event-type';
const ours = 'urn:consulate:secevent:event-type';

/** The event types the guard acts on (what it asks its stream for). */
export const guardEventTypes = [
  `${caep}/session-revoked`,
  `${caep}/credential-change`,
  `${ours}:delegation-revoked`,
  `${ours}:budget-spent`,
  `${ours}:agent-suspended`,
  `${ours}:agent-resumed`,
  `${ours}:agent-retired`,
] as const;

export type SignalState = {
  /** Applies one event; returns the match of the cached answers it makes stale (undefined: none). */
  apply(type: string, event: Record<string, unknown>, subId: Record<string, unknown> | undefined, now: number): ((claims: Record<string, unknown>) => boolean) | undefined;
  refuses(passport: Passport, now: number): boolean;
};

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const member = (subId: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined => {
  const value = subId?.[name];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
};

/** The agents of a Passport: its client, its subject (an agent acting for itself) and every actor of its `act` chain. */
export function partiesOf(claims: Record<string, unknown>): string[] {
  const parties = [claims.client_id, claims.sub].filter((v): v is string => typeof v === 'string');
  let act = claims.act;
  for (let depth = 0; typeof act === 'object' && act !== null && depth < 32; depth++) {
    const sub = (act as Record<string, unknown>).sub;
    if (typeof sub === 'string') parties.push(sub);
    act = (act as Record<string, unknown>).act;
  }
  return parties;
}

export function createSignalState(options: { issuer: string; rememberSeconds: number; maxEntries?: number }): SignalState {
  const max = options.maxEntries ?? 100_000;
  const dids = createTtlCache<true>(max);
  const jtis = createTtlCache<true>(max);
  /** Per agent: its state and the time of the event that set it (a late, older event changes nothing). */
  const agents = createTtlCache<{ state: 'suspended' | 'retired' | 'active'; at: number }>(max);
  const until = (now: number) => now + options.rememberSeconds;

  return {
    apply(type, event, subId, now) {
      const at = typeof event.event_timestamp === 'number' ? event.event_timestamp : now;
      switch (type) {
        case `${ours}:delegation-revoked`:
        case `${ours}:budget-spent`: {
          const did = text(event.did) ?? text(member(subId, 'delegation')?.id);
          if (did === undefined) return undefined;
          dids.put(did, true, until(now), now);
          return (claims) => claims.did === did;
        }
        case `${ours}:agent-suspended`:
        case `${ours}:agent-retired`:
        case `${ours}:agent-resumed`: {
          const agent = text(event.client_id) ?? text(member(subId, 'application')?.id);
          if (agent === undefined) return undefined;
          const known = agents.get(agent, now);
          if (known && (known.at > at || known.state === 'retired')) return undefined;
          const state = type.endsWith('resumed') ? 'active' : type.endsWith('retired') ? 'retired' : 'suspended';
          agents.put(agent, { state, at }, until(now), now);
          return state === 'active' ? undefined : (claims) => partiesOf(claims).includes(agent);
        }
        case `${caep}/session-revoked`: {
          // The person's sessions ended: answers about their Passports are re-asked (Consulate decides what is still active).
          const user = member(subId, 'user');
          const sub = user?.format === 'iss_sub' && user.iss === options.issuer ? text(user.sub) : undefined;
          const app = text(member(subId, 'application')?.id);
          if (sub === undefined) return undefined;
          return (claims) => claims.sub === sub && (app === undefined || claims.client_id === app);
        }
        case `${caep}/credential-change`: {
          // A Passport revoked: refused by its jti from now on.
          if (event.change_type !== 'revoke' || subId?.format !== 'jwt_id' || subId.iss !== options.issuer) return undefined;
          const jti = text(subId.jti);
          if (jti === undefined) return undefined;
          jtis.put(jti, true, until(now), now);
          return (claims) => claims.jti === jti;
        }
        default:
          return undefined;
      }
    },
    refuses(passport, now) {
      if (typeof passport.did === 'string' && dids.get(passport.did, now)) return true;
      if (typeof passport.jti === 'string' && jtis.get(passport.jti, now)) return true;
      return partiesOf(passport).some((id) => {
        const state = agents.get(id, now)?.state;
        return state === 'suspended' || state === 'retired';
      });
    },
  };
}
