// Claims mapping rule sets in config: the operator's files (config/mappings/*.yaml) and the built-in
// presets per upstream kind, each compiled once here so that a CEL syntax or type error is a
// config problem at its file:line:col, like any other. An upstream names its rule set with
// `mapping: <id>` (or `preset:<kind>`); without one it uses its kind's preset.
import { compileRuleSet, presetFile, runFixtures, type FixtureCase } from '../claims/engine.ts';
import type { Located } from './types.ts';
import type { ConfigProblem } from './problems.ts';
import { upstreamKinds, type MappingConfig, type UpstreamConfig } from './schema.ts';

export const presetId = (kind: UpstreamConfig['kind']): string => `preset:${kind}`;

export const ruleSetIdOf = (upstream: Pick<UpstreamConfig, 'kind' | 'mapping'>): string => upstream.mapping ?? presetId(upstream.kind);

/** Rule sets by id: the presets under `preset:<kind>`, then the operator's. */
export function checkMappings(
  mappings: Located<MappingConfig>[],
  presets: Map<string, Located<MappingConfig>>,
  upstreams: Located<UpstreamConfig>[],
  fixtures: ReadonlyMap<string, Located<{ cases: FixtureCase[] }>> = new Map(),
): { ruleSets: Map<string, Located<MappingConfig>>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const ruleSets = new Map(presets);
  for (const mapping of mappings) {
    const seen = ruleSets.get(mapping.id);
    if (seen) problems.push(mapping.source.problem(['id'], `rule set ${mapping.id} is defined twice (also in ${seen.source.file})`));
    ruleSets.set(mapping.id, mapping);
  }
  for (const ruleSet of new Set(ruleSets.values())) {
    const compiled = compileRuleSet(ruleSet);
    if (!compiled.ok) {
      for (const problem of compiled.problems) problems.push(ruleSet.source.problem(problem.path, problem.message));
      continue;
    }
    // The operator's own tests beside the rules: a rule set whose fixtures fail does not take effect.
    const cases = fixtures.get(ruleSet.id);
    if (!cases) continue;
    const user = upstreams.find((u) => ruleSetIdOf(u) === ruleSet.id);
    const upstream = { id: user?.id ?? ruleSet.id, kind: user?.kind ?? 'oidc', issuer: user?.issuer ?? 'https://fixture.invalid' };
    for (const result of runFixtures(compiled.ruleSet, cases.cases, upstream)) {
      if (!result.pass) problems.push(cases.source.problem([result.index], `fixture "${result.name}" fails: ${result.diff.join('; ')}`));
    }
  }
  for (const upstream of upstreams) {
    if (upstream.mapping !== undefined && !ruleSets.has(upstream.mapping)) {
      problems.push(upstream.source.problem(['mapping'], `no rule set ${upstream.mapping} in mappings/ (presets: ${upstreamKinds.map(presetId).join(', ')})`));
    }
  }
  return { ruleSets, problems };
}

export const presetFiles = (): [string, string][] => upstreamKinds.map((kind) => [presetId(kind), presetFile(kind)]);
