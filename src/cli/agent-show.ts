// An agent's file in words, for `consulate agent show`: who owns it, its state in force, how it
// authenticates, and its delegation policy (whom it may act for, whose tokens it may exchange,
// per resource what it may ask for). Never a secret hash: only how it authenticates.
import type { EffectiveState } from '../agents/state.ts';
import { formatAmount, parseAmount } from '../delegation/budget.ts';
import type { Config, Located } from '../config/load.ts';
import type { Budget, ClientConfig } from '../config/schema.ts';
import { isoDate } from './context.ts';

const list = (items: readonly string[]) => items.join(', ');

function budgetWords(budget: Budget): string {
  const parts = [];
  if (budget.uses !== undefined) parts.push(`${budget.uses} uses`);
  if (budget.amount !== undefined) parts.push(`${formatAmount(parseAmount(budget.amount) ?? 0)} ${budget.currency ?? ''}`.trimEnd());
  return parts.join(' and ');
}

function actsFor(policy: NonNullable<ClientConfig['delegation']>): string[] {
  const { act_for: rules } = policy;
  if (rules.anyone) return ['anyone (bounded by its resources below)'];
  const lines = [
    ...(rules.people.length ? [`people: ${list(rules.people)}`] : []),
    ...(rules.groups.length ? [`members of the groups: ${list(rules.groups)}`] : []),
    ...(rules.clients.length ? [`the clients: ${list(rules.clients)}`] : []),
  ];
  return lines.length ? lines : ['nobody yet (fill in delegation.act_for)'];
}

/** The state in force, where it is set, and what it means. */
function stateWords(state: EffectiveState): string {
  const { record } = state;
  const where =
    state.source === 'runtime' && record
      ? `set in the database by ${record.changedBy} at ${isoDate(record.changedAt)}${state.declared === state.state ? '' : `; the file says ${state.declared}`}`
      : state.declared === 'retired'
        ? 'the file says retired, which is final'
        : 'the file\'s default; nothing set in the database';
  return `${state.state} (${where})${state.state === 'active' ? '' : '\n                 it gets no tokens; its Passports introspect inactive'}`;
}

export function describeAgent(config: Config, agent: Located<ClientConfig>, state: EffectiveState): string {
  const policy = agent.delegation;
  const out = [
    `agent ${agent.client_id}${agent.name ? ` (${agent.name})` : ''}`,
    `  file:          ${agent.source.file}`,
    `  owner:         ${agent.owner ?? '-'}`,
    `  state:         ${stateWords(state)}`,
    `  authenticates: ${agent.token_endpoint_auth_method}${agent.jwks_uri ? ` (keys at ${agent.jwks_uri})` : agent.jwks ? ' (keys in the file)' : ''}`,
    `  grants:        ${agent.grant_types.length ? list(agent.grant_types) : 'none'}`,
  ];
  if (policy) {
    out.push('  acts for:', ...actsFor(policy).map((line) => `    ${line}`));
    const sources = [
      ...(policy.subject_token_clients.length ? [`tokens issued to the clients: ${list(policy.subject_token_clients)}`] : []),
      ...(policy.subject_token_upstreams.length ? [`tokens of the upstreams: ${list(policy.subject_token_upstreams)}`] : []),
      ...(policy.jwt_bearer_issuers.length ? [`assertions of the trusted issuers: ${list(policy.jwt_bearer_issuers)}`] : []),
    ];
    out.push('  exchanges:', ...(sources.length ? sources : ['only its own tokens']).map((line) => `    ${line}`));
    out.push(`  longest chain: ${policy.max_chain} actor${policy.max_chain === 1 ? '' : 's'}`);
    out.push(`  lifetime:      ${policy.max_ttl_seconds !== undefined ? `Passports of at most ${policy.max_ttl_seconds} s` : 'as the resource gives'}`);
    out.push(`  DPoP:          ${policy.dpop}`);
  } else {
    out.push('  delegation:    none (it cannot act for anyone)');
  }
  const resources = Object.entries(agent.resources);
  out.push(`  resources:${resources.length ? '' : '     none yet (fill in resources)'}`);
  for (const [uri, grant] of resources) {
    const name = config.resources.get(uri)?.name;
    out.push(`    ${uri}${name ? ` (${name})` : ''}`);
    out.push(`      scopes: ${grant.scopes.length ? list(grant.scopes) : 'none'}`);
    for (const type of grant.authorization_details_types) {
      const actions = grant.actions[type];
      out.push(`      authorization details: ${type}${actions ? ` (actions: ${list(actions)})` : ' (any action its schema allows)'}`);
    }
    if (grant.budget) out.push(`      budget per delegation: ${budgetWords(grant.budget)}`);
  }
  for (const [issuer, audience] of Object.entries(policy?.id_jag_audiences ?? {})) {
    out.push(`  ID-JAG for ${issuer}: client ${audience.client_id}; scopes ${audience.scopes.length ? list(audience.scopes) : 'none'}`);
  }
  return `${out.join('\n')}\n`;
}
