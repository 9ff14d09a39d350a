// One login's upstream claims → canonical claims (pure), through a compiled rule set:
// 1 sanitize (bounded, prototype-safe copy)  2 subject → orig_sub, provenance, acr/amr/auth_time
// 3 each claim rule in file order  4 deny rules in order  5 require.
// A missing upstream claim is "no value" (default, or the claim is left out); any other evaluation
// error fails the mapping, and a deny rule that cannot be evaluated refuses the login.
import { runExpression } from './cel.ts';
import type { CanonicalClaims } from './canonical.ts';
import { planOf, valueHasType, type ClaimPlan, type Plan } from './compile.ts';
import { maxSubjectLength } from './limits.ts';
import { isEmptyValue, jsonToCel, jsonTypeName, outputBudget, toCelInput, toClaimValue, ValueError, type JsonValue } from './sanitize.ts';
import { applyTransform } from './transforms.ts';
import type { ClaimTrace, CompiledRuleSet, MappingInput, MappingResult } from './types.ts';

/** Shown to the person when a deny rule cannot be evaluated (the cause is in the trace). */
export const denyFailedMessage = 'Your sign-in could not be checked against this service’s access rules.';

class Failure extends Error {}

type Outcome = { value: JsonValue | undefined; source: 'expr' | 'default'; expr?: string; note?: string };
type Context = { claims: Record<string, unknown>; tables: Readonly<Record<string, unknown>>; upstream: Record<string, string> };

export function mapClaims(ruleSet: CompiledRuleSet, input: MappingInput): MappingResult {
  const plan = planOf(ruleSet);
  if (!plan) throw new TypeError('mapClaims: not a rule set made by compileRuleSet');

  let claims: Record<string, unknown>;
  try {
    claims = toCelInput(input.claims);
  } catch (error) {
    if (error instanceof ValueError) return { ok: false, reason: 'invalid_claims', detail: error.message };
    throw error;
  }
  const upstream = { id: input.upstream.id, kind: input.upstream.kind, issuer: input.upstream.issuer };
  const context: Context = { claims, tables: plan.tables, upstream };
  const budget = outputBudget();
  const canonical = new Map<string, JsonValue>();
  const trace: ClaimTrace[] = [];

  try {
    // 2. Subject and provenance.
    const subject = runExpression(plan.subject, context);
    if (!subject.ok) throw new Failure(`subject (${plan.subject.source}): ${subject.missing ? 'no value: ' : ''}${subject.message}`);
    const sub = subject.value;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > maxSubjectLength) {
      throw new Failure(`subject (${plan.subject.source}): must be a non-empty string of at most ${maxSubjectLength} characters, got ${typeof sub === 'string' ? `a string of ${sub.length}` : describeValue(sub)}`);
    }
    const origSub = toClaimValue(sub, budget, 'orig_sub') as string;
    canonical.set('orig_iss', input.upstream.issuer);
    trace.push({ claim: 'orig_iss', value: input.upstream.issuer, source: 'upstream', rule: 'upstream.issuer' });
    canonical.set('orig_sub', origSub);
    trace.push({ claim: 'orig_sub', value: origSub, source: 'expr', rule: 'subject', expr: plan.subject.source });
    canonical.set('upstream', input.upstream.id);
    trace.push({ claim: 'upstream', value: input.upstream.id, source: 'upstream', rule: 'upstream.id' });
    copyAuthentication(claims, canonical, trace);

    // 3. Claim rules, in file order.
    for (const rule of plan.claims) {
      const outcome = evaluateClaim(rule, context, budget);
      if (outcome.value !== undefined) canonical.set(rule.name, outcome.value);
      const entry: ClaimTrace = { claim: rule.name, value: outcome.value, source: outcome.source, rule: rule.rule };
      if (outcome.expr !== undefined) entry.expr = outcome.expr;
      if (outcome.note !== undefined) entry.note = outcome.note;
      trace.push(entry);
    }
  } catch (error) {
    if (error instanceof Failure) return { ok: false, reason: 'evaluation_failed', detail: error.message };
    if (error instanceof ValueError) return { ok: false, reason: 'evaluation_failed', detail: `value too large or of an unsupported type: ${error.message}` };
    throw error;
  }

  // 4. Deny rules, on the upstream claims and the canonical claims so far; fail closed.
  if (plan.deny.length) {
    const denyContext = { ...context, canonical: jsonToCel(Object.fromEntries(canonical)) };
    for (let i = 0; i < plan.deny.length; i++) {
      const rule = plan.deny[i] as Plan['deny'][number];
      const result = runExpression(rule.when, denyContext);
      if (result.ok && result.value === false) continue;
      const fired = result.ok && result.value === true;
      const note = fired ? undefined : result.ok ? `not a bool (${describeValue(result.value)}): refused` : `evaluation failed (${result.message}): refused`;
      trace.push({ claim: 'deny', value: true, source: 'expr', rule: `deny.${i}`, expr: rule.when.source, ...(note ? { note } : {}) });
      return { ok: false, reason: 'denied', message: fired ? rule.reason : denyFailedMessage, rule: i, trace };
    }
  }

  // 5. Required claims.
  const missing = plan.require.filter((name) => isEmptyValue(canonical.get(name)));
  if (missing.length) return { ok: false, reason: 'missing', claims: [...new Set(missing)], trace };

  // Object.fromEntries defines own data properties; claim names were checked at compile time.
  return { ok: true, canonical: Object.fromEntries(canonical) as CanonicalClaims, trace };
}

/** The claim gets its default (or is left out); `note` says why, for the trace. */
function fallback(rule: ClaimPlan, note: string | undefined, expr: string | undefined): Outcome {
  const outcome: Outcome = { value: rule.default, source: 'default' };
  if (expr !== undefined) outcome.expr = expr;
  if (note !== undefined) outcome.note = rule.default === undefined ? `${note}: left out` : `${note}: default`;
  return outcome;
}

function evaluateClaim(rule: ClaimPlan, context: Context, budget: ReturnType<typeof outputBudget>): Outcome {
  if (rule.when) {
    const when = runExpression(rule.when, context);
    if (!when.ok && !when.missing) throw new Failure(`${rule.rule}.when (${rule.when.source}): ${when.message}`);
    if (when.ok && typeof when.value !== 'boolean') throw new Failure(`${rule.rule}.when (${rule.when.source}): must be a bool, got ${describeValue(when.value)}`);
    if (!when.ok) return fallback(rule, `when: ${when.message}`, rule.when.source);
    if (when.value === false) return fallback(rule, 'when is false', rule.when.source);
  }
  if (!rule.expr) return fallback(rule, undefined, undefined);

  const source = rule.expr.source;
  const result = runExpression(rule.expr, context);
  if (!result.ok) {
    if (result.missing) return fallback(rule, result.message, source);
    throw new Failure(`${rule.rule} (${source}): ${result.message}`);
  }
  let value: JsonValue | undefined = toClaimValue(result.value, budget, rule.name);
  if (isEmptyValue(value)) return fallback(rule, `no value (${jsonTypeName(value)})`, source);
  for (const name of rule.transforms) {
    const transformed = applyTransform(name, value as JsonValue);
    if (!transformed.ok) return fallback(rule, transformed.note, source);
    value = transformed.value;
    if (value === undefined || isEmptyValue(value)) return fallback(rule, `no value after ${name}`, source);
  }
  if (rule.type && !valueHasType(value as JsonValue, rule.type)) return fallback(rule, `${rule.name} must be a ${rule.type}, got ${describeValue(value)}`, source);
  return { value, source: 'expr', expr: source };
}

/** acr (string), amr (list of strings), auth_time (number): copied when well-typed, else noted. */
function copyAuthentication(claims: Record<string, unknown>, canonical: Map<string, JsonValue>, trace: ClaimTrace[]) {
  if (Object.hasOwn(claims, 'acr')) {
    const acr = claims.acr;
    copyFact(canonical, trace, 'acr', typeof acr === 'string' && acr.length > 0 ? acr : undefined, 'ignored: not a non-empty string');
  }
  if (Object.hasOwn(claims, 'amr')) {
    const amr = claims.amr;
    copyFact(canonical, trace, 'amr', Array.isArray(amr) && amr.length > 0 && amr.every((m) => typeof m === 'string') ? [...(amr as string[])] : undefined, 'ignored: not a non-empty list of strings');
  }
  if (Object.hasOwn(claims, 'auth_time')) {
    const authTime = claims.auth_time;
    const seconds = typeof authTime === 'bigint' ? Number(authTime) : typeof authTime === 'number' ? authTime : undefined;
    copyFact(canonical, trace, 'auth_time', seconds !== undefined && Number.isSafeInteger(Math.trunc(seconds)) && seconds >= 0 ? seconds : undefined, 'ignored: not a number of seconds');
  }
}

function copyFact(canonical: Map<string, JsonValue>, trace: ClaimTrace[], name: string, value: JsonValue | undefined, note: string) {
  if (value !== undefined) canonical.set(name, value);
  trace.push(value === undefined ? { claim: name, value, source: 'upstream', rule: name, note } : { claim: name, value, source: 'upstream', rule: name });
}

function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return 'int';
  if (value === undefined) return 'nothing';
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
    return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  }
  return jsonTypeName(value);
}

