// "Your agents" on the account pages: the agents a person owns (config `owner:` = their verified
// canonical e-mail, account-delegations.tsx ownedAgents), each with its state in force and where it
// comes from, its delegation policy in words, and its live delegations; the suspend / resume forms
// put the kill switch in the owner's hands (agents/lifecycle.ts, the service the CLI calls).
// Ownership is decided here, server-side, for the pages and the forms alike.
import type { Deps } from '../deps.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { EffectiveState } from '../agents/state.ts';
import { agentState } from '../agents/lifecycle.ts';
import { liveDelegations } from '../delegation/records.ts';
import { latestClaimsOf } from '../federation/subjects.ts';
import { resourceName, resourceScopeWords } from '../consent/describe.ts';
import type { SessionRecord } from '../store/ports.ts';
import { ownedAgents } from './account-owner.ts';

export type OwnedAgent = {
  id: string;
  name: string;
  state: EffectiveState;
  /** Whom it may act for, and what it may ask for, in words. */
  policy: { actsFor: string; resources: string[]; limits: string[] };
  delegations: { did: string; forWhom: string; resource: string; since: string }[];
};

const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

/** The agent `id` when this person owns it; undefined for another's, an unknown id, or a client. */
export function ownedAgent(deps: Deps, session: SessionRecord, id: string): ClientConfig | undefined {
  if (!ownedAgents(deps, session.claims).includes(id)) return undefined;
  return deps.config.clients.get(id);
}

function actsForWords(agent: ClientConfig): string {
  const rules = agent.delegation?.act_for;
  if (!rules) return 'nobody (it acts only for itself)';
  if (rules.anyone) return 'anyone who signs in';
  const parts = [
    rules.people.length ? `the people ${rules.people.join(', ')}` : '',
    rules.groups.length ? `members of the groups ${rules.groups.join(', ')}` : '',
    rules.clients.length ? `the services ${rules.clients.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'nobody (it acts only for itself)';
}

function policyWords(deps: Deps, agent: ClientConfig): OwnedAgent['policy'] {
  const resources = Object.entries(agent.resources).map(([resource, allowed]) => {
    const scopes = allowed.scopes.map((s) => resourceScopeWords(deps.config, resource, s));
    return `${resourceName(deps.config, resource)}: ${scopes.length ? scopes.join('; ') : 'no scopes'}`;
  });
  const limits: string[] = [];
  if (agent.delegation?.max_ttl_seconds !== undefined) limits.push(`Passports last at most ${agent.delegation.max_ttl_seconds} seconds`);
  if (agent.delegation?.dpop === 'required') limits.push('only sender-constrained (DPoP) Passports');
  if ((agent.delegation?.max_chain ?? 1) > 1) limits.push(`may pass work on, up to ${agent.delegation?.max_chain} agents deep`);
  return { actsFor: actsForWords(agent), resources, limits };
}

async function personName(deps: Deps, sub: string): Promise<string> {
  const claims = await latestClaimsOf(deps.store, sub);
  for (const name of ['name', 'email']) if (typeof claims[name] === 'string' && claims[name]) return claims[name] as string;
  return sub;
}

export async function describeOwnedAgent(deps: Deps, agent: ClientConfig): Promise<OwnedAgent> {
  const now = deps.now();
  const delegations = [];
  for (const record of await liveDelegations(deps.store, { clientIds: [agent.client_id] }, now)) {
    const resource = record.resource === undefined ? 'any of its resources' : resourceName(deps.config, record.resource);
    delegations.push({ did: record.did, forWhom: await personName(deps, record.sub), resource, since: day(record.createdAt) });
  }
  return { id: agent.client_id, name: agent.name ?? agent.client_id, state: await agentState(deps, agent), policy: policyWords(deps, agent), delegations };
}

export async function loadOwnedAgents(deps: Deps, session: SessionRecord): Promise<OwnedAgent[]> {
  const agents = ownedAgents(deps, session.claims).flatMap((id) => deps.config.clients.get(id) ?? []);
  return Promise.all(agents.map((agent) => describeOwnedAgent(deps, agent)));
}

const stateWords = (s: EffectiveState): string => {
  const source = s.source === 'runtime' ? `set ${s.record ? `on ${day(s.record.changedAt)} by ${s.record.changedBy.startsWith('person:') ? 'its owner' : 'an operator'}` : 'at runtime'}` : 'as its configuration declares';
  return `${s.state} (${source})`;
};

export function AgentCard(props: { csrf: string; agent: OwnedAgent }) {
  const { agent } = props;
  const change = agent.state.state === 'active' ? 'suspend' : agent.state.state === 'suspended' ? 'resume' : undefined;
  return (
    <section class="card" aria-label={agent.name}>
      <h3>
        <a href={`/account/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a>
      </h3>
      <p>
        State: <strong>{stateWords(agent.state)}</strong>
      </p>
      <p>May act for: {agent.policy.actsFor}</p>
      {agent.policy.resources.length ? (
        <ul aria-label="What it may ask for">
          {agent.policy.resources.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      ) : (
        <p>It may ask for no resource.</p>
      )}
      {agent.policy.limits.length ? <p class="muted">{agent.policy.limits.join('; ')}.</p> : null}
      <h4>Acting for</h4>
      {agent.delegations.length ? (
        <ul aria-label="Live delegations">
          {agent.delegations.map((d) => (
            <li>
              {d.forWhom} on {d.resource} since {d.since}
            </li>
          ))}
        </ul>
      ) : (
        <p>Nobody right now.</p>
      )}
      {change ? (
        <form method="post" action={`/account/agents/${encodeURIComponent(agent.id)}/${change}`} class="actions">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit">
            {change === 'suspend' ? `Suspend ${agent.name}: it gets no more tokens` : `Resume ${agent.name}`}
          </button>
        </form>
      ) : null}
    </section>
  );
}
