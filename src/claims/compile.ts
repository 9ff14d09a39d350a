// Rule set → compiled plan (pure): every CEL expression parsed, bounded and type-checked, tables
// copied into frozen prototype-safe objects, every problem reported at its path in the rule set.
import { reservedClaims, type ClaimRule, type MappingConfig } from '../config/schema.ts';
import { compileExpression, type CompiledExpr, type ExprRole, type TableShapes, type ValueType } from './cel.ts';
import { forbiddenKeys } from './limits.ts';
import { deepFreeze, jsonToCel, jsonTypeName, type JsonValue } from './sanitize.ts';
import type { Transform } from './transforms.ts';
import type { CompileProblem, CompiledRuleSet } from './types.ts';

/** Claims the rest of Consulate reads with a fixed type; a value of another type is left out. */
export const claimTypes: Readonly<Record<string, ValueType>> = Object.freeze({
  email: 'string',
  email_verified: 'bool',
  name: 'string',
  groups: 'list<string>',
  roles: 'list<string>',
});

/** Claims set by the engine itself (provenance, authentication facts): `require` may name them. */
export const engineClaims: ReadonlySet<string> = new Set(['orig_iss', 'orig_sub', 'upstream', 'acr', 'amr', 'auth_time']);

export type ClaimPlan = {
  readonly name: string;
  readonly rule: string;
  readonly expr?: CompiledExpr;
  readonly when?: CompiledExpr;
  readonly default?: JsonValue;
  readonly transforms: readonly Transform[];
  readonly type?: ValueType;
};

export type Plan = {
  readonly id: string;
  readonly subject: CompiledExpr;
  /** Tables as CEL sees them (integers as BigInt), frozen. */
  readonly tables: Readonly<Record<string, unknown>>;
  readonly claims: readonly ClaimPlan[];
  readonly deny: readonly { readonly when: CompiledExpr; readonly reason: string }[];
  readonly require: readonly string[];
};

const plans = new WeakMap<CompiledRuleSet, Plan>();

/** The plan behind a compiled rule set; undefined for anything compileRuleSet did not make. */
export const planOf = (ruleSet: CompiledRuleSet): Plan | undefined => plans.get(ruleSet);

const reserved: ReadonlySet<string> = new Set(reservedClaims);

export function valueHasType(value: JsonValue, type: ValueType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'list<string>':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

const nfc = (value: JsonValue): JsonValue => (typeof value === 'string' ? value.normalize('NFC') : Array.isArray(value) ? value.map(nfc) : value);

export function compileRuleSet(rules: MappingConfig): { ok: true; ruleSet: CompiledRuleSet } | { ok: false; problems: CompileProblem[] } {
  const problems: CompileProblem[] = [];
  const own = <T>(record: Record<string, T> | undefined): [string, T][] => (record ? Object.keys(record).map((k) => [k, record[k] as T]) : []);

  // Tables first: expressions are checked against their names.
  const tableEntries: [string, unknown][] = [];
  for (const [name, table] of own(rules.tables)) {
    if (forbiddenKeys.has(name)) {
      problems.push({ path: ['tables', name], message: `${JSON.stringify(name)} cannot be a table name` });
      continue;
    }
    const entries: [string, unknown][] = [];
    for (const [key, value] of own(table)) {
      if (forbiddenKeys.has(key)) problems.push({ path: ['tables', name, key], message: `${JSON.stringify(key)} cannot be a table key (it could change object prototypes)` });
      else entries.push([key.normalize('NFC'), jsonToCel(nfc(value as JsonValue))]);
    }
    tableEntries.push([name, Object.fromEntries(entries)]);
  }
  const tables = deepFreeze(Object.fromEntries(tableEntries));
  const tableShapes: TableShapes = new Map(
    own(rules.tables).map(([name, table]) => {
      const values = Object.values(table);
      return [name, { entries: values.length, longestList: Math.max(0, ...values.map((v) => (Array.isArray(v) ? v.length : 0))) }];
    }),
  );

  const compile = (source: string, role: ExprRole, path: (string | number)[], type?: ValueType): CompiledExpr | undefined => {
    const result = compileExpression(source, role, tableShapes, type);
    if (result.ok) return result.expr;
    problems.push({ path, message: result.problem.message, ...(result.problem.offset !== undefined ? { offset: result.problem.offset } : {}) });
    return undefined;
  };

  const subject = compile(rules.subject, 'subject', ['subject']);

  const claims: ClaimPlan[] = [];
  for (const [name, rule] of own<ClaimRule>(rules.claims)) {
    const path = ['claims', name];
    if (reserved.has(name)) {
      problems.push({ path, message: `${name} is reserved: ${engineClaims.has(name) ? 'Consulate sets it from the upstream, not from a rule' : 'it is a protocol claim no rule may set'}` });
      continue;
    }
    if (forbiddenKeys.has(name)) {
      problems.push({ path, message: `${name} cannot be a claim name` });
      continue;
    }
    const type = claimTypes[name];
    if (typeof rule === 'string') {
      const expr = compile(rule, 'value', path, type);
      if (expr) claims.push({ name, rule: `claims.${name}`, expr, transforms: [], ...(type ? { type } : {}) });
      continue;
    }
    const transforms = rule.transform ?? [];
    // `first` turns a list into one of its items: the expression's static type is then not the claim's.
    const staticType = type && !transforms.includes('first') ? type : undefined;
    const expr = rule.expr === undefined ? undefined : compile(rule.expr, 'value', [...path, 'expr'], staticType);
    const when = rule.when === undefined ? undefined : compile(rule.when, 'condition', [...path, 'when']);
    if (rule.expr === undefined && rule.default === undefined) problems.push({ path, message: 'a rule needs an expr, a default, or both' });
    let fallback: JsonValue | undefined;
    if (rule.default !== undefined) {
      fallback = deepFreeze(nfc(rule.default));
      if (type && !valueHasType(fallback, type)) problems.push({ path: [...path, 'default'], message: `${name} is a ${type}; this default is a ${jsonTypeName(fallback)}` });
    }
    claims.push({
      name,
      rule: `claims.${name}`,
      ...(expr ? { expr } : {}),
      ...(when ? { when } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
      transforms: [...transforms],
      ...(type ? { type } : {}),
    });
  }

  const deny: { when: CompiledExpr; reason: string }[] = [];
  (rules.deny ?? []).forEach((rule, i) => {
    const when = compile(rule.when, 'deny', ['deny', i, 'when']);
    if (when) deny.push({ when, reason: rule.reason.normalize('NFC') });
  });

  const produced = new Set([...claims.map((c) => c.name), ...engineClaims]);
  (rules.require ?? []).forEach((name, i) => {
    if (!produced.has(name)) problems.push({ path: ['require', i], message: `no rule produces ${name}, so every login would be refused` });
  });

  if (problems.length || !subject) return { ok: false, problems };
  const ruleSet: CompiledRuleSet = Object.freeze({ id: rules.id, ...(rules.description !== undefined ? { description: rules.description } : {}) });
  plans.set(ruleSet, Object.freeze({ id: rules.id, subject, tables, claims: Object.freeze(claims), deny: Object.freeze(deny), require: Object.freeze([...(rules.require ?? [])]) }));
  return { ok: true, ruleSet };
}
