// Policies → a decision for one request (pure): 1 the request made safe for CEL (bounded,
// prototype-safe copy; integers as CEL ints)  2 each file in name order, each rule in file order:
// the first rule whose `when` is true decides that file, else its default  3 the first file that
// does not allow decides; every file allowing is an allow.
// Fail closed: a condition that cannot be evaluated (a missing claim, a wrong type) or is not a
// bool denies, naming the rule; write `has(person.x) && …` for claims that may be absent.
import { runExpression } from '../claims/cel.ts';
import { toCelInput, ValueError } from '../claims/sanitize.ts';
import { planOf, type Outcome, type PolicyPlan } from './compile.ts';
import type { CompiledPolicy, PolicyDecision, PolicyInput, RuleTrace } from './types.ts';

/** Sent to the client when a policy cannot be evaluated; the cause is in the trace and the log. */
export const policyFailedMessage = 'the request could not be checked against policy';

export function evaluatePolicies(policies: readonly CompiledPolicy[], input: PolicyInput): PolicyDecision {
  const trace: RuleTrace[] = [];
  if (policies.length === 0) return { decision: 'allow', trace };

  // 1.
  let context: Record<string, unknown>;
  try {
    context = toCelInput({
      client: { client_id: input.client.client_id, kind: input.client.kind, owner: input.client.owner ?? '', name: input.client.name ?? '' },
      person: input.person,
      scopes: [...input.scopes],
      resource: input.resource ?? '',
      details: [...input.details],
      grant: input.grant,
      risk: { new_agent: input.risk.new_agent, chain: input.risk.chain },
    });
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    const first = planOf(policies[0] as CompiledPolicy) as PolicyPlan;
    trace.push({ policy: first.id, rule: '(input)', when: '', outcome: 'failed', note: `the request is too large or malformed for policy evaluation: ${error.message}` });
    return { decision: 'deny', reason: policyFailedMessage, policy: first.id, rule: '(input)', trace };
  }

  // 2–3.
  for (const policy of policies) {
    const plan = planOf(policy);
    if (!plan) throw new TypeError('evaluatePolicies: not a policy made by compilePolicy');
    const decided = decideFile(plan, context, trace);
    if (decided.outcome.decision !== 'allow') return withRule(decided.outcome, plan.id, decided.rule, trace);
    if (policy === policies.at(-1)) return { decision: 'allow', policy: plan.id, rule: decided.rule, trace };
  }
  return { decision: 'allow', trace };
}

function decideFile(plan: PolicyPlan, context: Record<string, unknown>, trace: RuleTrace[]): { outcome: Outcome; rule: string } {
  for (const rule of plan.rules) {
    const result = runExpression(rule.when, context);
    const entry = { policy: plan.id, rule: rule.name, when: rule.when.source };
    if (result.ok && result.value === false) {
      trace.push({ ...entry, outcome: 'not matched' });
      continue;
    }
    if (result.ok && result.value === true) {
      trace.push({ ...entry, outcome: 'matched' });
      return { outcome: rule.then, rule: rule.name };
    }
    const note = result.ok ? `not a bool (${typeof result.value === 'bigint' ? 'int' : typeof result.value}): denied` : `evaluation failed (${result.message}): denied`;
    trace.push({ ...entry, outcome: 'failed', note });
    return { outcome: { decision: 'deny', reason: policyFailedMessage }, rule: rule.name };
  }
  return { outcome: plan.fallback, rule: 'default' };
}

function withRule(outcome: Exclude<Outcome, { decision: 'allow' }>, policy: string, rule: string, trace: RuleTrace[]): PolicyDecision {
  if (outcome.decision === 'deny') return { decision: 'deny', reason: outcome.reason, policy, rule, trace };
  return { decision: 'obligations', ...(outcome.stepUp ? { stepUp: { ...outcome.stepUp } } : {}), ...(outcome.consent ? { consent: { ...outcome.consent } } : {}), policy, rule, trace };
}

/** Whether any of the policies reads `risk` (its signals cost store lookups). */
export const policiesUseRisk = (policies: readonly CompiledPolicy[]): boolean => policies.some((p) => planOf(p)?.usesRisk === true);
