// Rule sets written as YAML, validated by the real schema, then compiled.
import { parse } from 'yaml';
import { expect } from 'vitest';
import { compileRuleSet, mapClaims, type CompiledRuleSet, type CompileProblem, type MappingResult } from '../../../src/claims/engine.ts';
import { mappingSchema } from '../../../src/config/schema.ts';

export const upstream = { id: 'corp', kind: 'oidc' as const, issuer: 'https://idp.example' };

export function config(yaml: string) {
  return mappingSchema.parse(parse(`id: test\nsubject: claims.sub\n${yaml}`));
}

export function compile(yaml: string): CompiledRuleSet {
  const compiled = compileRuleSet(config(yaml));
  if (!compiled.ok) throw new Error(compiled.problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n'));
  return compiled.ruleSet;
}

export function problems(yaml: string): CompileProblem[] {
  const compiled = compileRuleSet(config(yaml));
  expect(compiled.ok).toBe(false);
  return compiled.ok ? [] : compiled.problems;
}

export function map(yaml: string | CompiledRuleSet, claims: unknown): MappingResult {
  return mapClaims(typeof yaml === 'string' ? compile(yaml) : yaml, { upstream, claims });
}

export function canonical(yaml: string | CompiledRuleSet, claims: unknown): Record<string, unknown> {
  const result = map(yaml, claims);
  if (!result.ok) throw new Error(`mapping failed: ${JSON.stringify(result)}`);
  return result.canonical;
}
