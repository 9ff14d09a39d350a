// Policy files → compiled policies (pure): every `when` parsed, bounded and type-checked once with
// the claims engine's CEL machinery and bounds (src/claims/cel.ts, role `policy`), every problem
// reported at its path in the file. A compiled policy is cached by its config object, so the
// policies compiled when the config loads are the ones evaluated at run time.
import type { ASTNode } from '@marcbachmann/cel-js';
import { compileExpression, type CompiledExpr } from '../claims/cel.ts';
import type { PolicyConfig } from '../config/schema.ts';
import type { CompiledPolicy, Consent, StepUp } from './types.ts';

export type Outcome = { decision: 'allow' } | { decision: 'deny'; reason: string } | { decision: 'obligations'; stepUp?: StepUp; consent?: Consent };
export type RulePlan = { readonly name: string; readonly when: CompiledExpr; readonly then: Outcome };
export type PolicyPlan = { readonly id: string; readonly rules: readonly RulePlan[]; readonly fallback: Outcome; readonly usesRisk: boolean };
export type PolicyProblem = { path: (string | number)[]; message: string };

const plans = new WeakMap<CompiledPolicy, PolicyPlan>();
const cache = new WeakMap<object, CompiledPolicy>();
const noTables = new Map<string, never>();

/** The plan behind a compiled policy; undefined for anything compilePolicy did not make. */
export const planOf = (policy: CompiledPolicy): PolicyPlan | undefined => plans.get(policy);

/** `id`: the file's name without .yaml. The same config object compiles once. */
export function compilePolicy(id: string, config: PolicyConfig): { ok: true; policy: CompiledPolicy } | { ok: false; problems: PolicyProblem[] } {
  const cached = cache.get(config);
  if (cached && cached.id === id) return { ok: true, policy: cached };
  const problems: PolicyProblem[] = [];
  const rules: RulePlan[] = [];
  const seen = new Set<string>();
  let usesRisk = false;
  config.rules.forEach((rule, i) => {
    if (seen.has(rule.name)) problems.push({ path: ['rules', i, 'name'], message: `rule ${rule.name} is defined twice in this policy` });
    seen.add(rule.name);
    const compiled = compileExpression(rule.when, 'policy', noTables);
    if (!compiled.ok) {
      const at = compiled.problem.offset !== undefined ? ` (at character ${compiled.problem.offset + 1} of the expression)` : '';
      problems.push({ path: ['rules', i, 'when'], message: `${compiled.problem.message}${at}` });
      return;
    }
    usesRisk ||= mentions(compiled.expr.run.ast, 'risk');
    rules.push(Object.freeze({ name: rule.name, when: compiled.expr, then: outcomeOf(rule.then) }));
  });
  if (problems.length) return { ok: false, problems };
  const policy: CompiledPolicy = Object.freeze({ id });
  plans.set(policy, Object.freeze({ id, rules: Object.freeze(rules), fallback: outcomeOf(config.default), usesRisk }));
  cache.set(config, policy);
  return { ok: true, policy };
}

function outcomeOf(then: PolicyConfig['rules'][number]['then'] | PolicyConfig['default']): Outcome {
  if (then === 'allow') return { decision: 'allow' };
  if ('deny' in then) return { decision: 'deny', reason: then.deny.reason };
  const { step_up: stepUp, consent } = then.obligations;
  return Object.freeze({
    decision: 'obligations',
    ...(stepUp ? { stepUp: { acr: stepUp.acr, maxAge: stepUp.max_age } } : {}),
    ...(consent ? { consent: { approvers: consent.approvers, validitySeconds: consent.validity_seconds } } : {}),
  });
}

/** Whether the expression reads the variable `name` (so that costly inputs are computed only when read). */
function mentions(node: ASTNode, name: string): boolean {
  if (node.op === 'id') return node.args === name;
  if (node.op === 'value') return false;
  const visit = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(visit);
    return typeof value === 'object' && value !== null && 'op' in value && 'args' in value && mentions(value as ASTNode, name);
  };
  return visit(node.args);
}
