// The policies' decision for one request, with the inputs only the store knows: 1 the config's
// compiled policies (none: allow, nothing looked up)  2 risk signals, only when a policy reads
// `risk`  3 the pure evaluation (evaluate.ts). Callers turn the decision into wire behaviour.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { evaluatePolicies, policiesUseRisk } from '../obligations/evaluate.ts';
import { compiledPolicies } from '../obligations/policies.ts';
import { inSpan } from '../tracing/spans.ts';
import type { PolicyDecision, PolicyGrant, RiskSignals } from '../obligations/types.ts';

export type ObligationAsk = {
  client: ClientConfig;
  grant: PolicyGrant;
  /** The person represented; undefined when a client is. */
  sub?: string | undefined;
  claims: Readonly<Record<string, unknown>>;
  resource?: string | undefined;
  scopes: readonly string[];
  details: readonly unknown[];
  /** Actors that acted before this client (token exchange chains). */
  chain?: number | undefined;
  now: number;
};

/** The decision, as a `policy.evaluate` span when tracing is on (its outcome only). */
export function decideObligations(deps: Pick<Deps, 'config' | 'store'>, ask: ObligationAsk): Promise<PolicyDecision> {
  return inSpan('policy.evaluate', async (span) => {
    const decision = await decide(deps, ask);
    span?.setAttribute('consulate.outcome', decision.decision);
    return decision;
  });
}

async function decide(deps: Pick<Deps, 'config' | 'store'>, ask: ObligationAsk): Promise<PolicyDecision> {
  // 1.
  const policies = compiledPolicies(deps.config);
  if (policies.length === 0) return { decision: 'allow', trace: [] };
  // 2.
  const risk: RiskSignals = { new_agent: false, chain: ask.chain ?? 0 };
  if (policiesUseRisk(policies) && ask.client.kind === 'agent' && ask.sub !== undefined) {
    const live = await deps.store.delegations.list({ sub: ask.sub, clientIds: [ask.client.client_id], limit: 1 }, ask.now);
    risk.new_agent = live.length === 0;
  }
  // 3.
  return evaluatePolicies(policies, {
    client: { client_id: ask.client.client_id, kind: ask.client.kind, owner: ask.client.owner, name: ask.client.name },
    person: ask.claims,
    scopes: ask.scopes,
    resource: ask.resource,
    details: ask.details,
    grant: ask.grant,
    risk,
  });
}
