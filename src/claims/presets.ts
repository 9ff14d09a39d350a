// The built-in rule sets, one per upstream kind (presets/<kind>.yaml), and their fixture files
// (presets/<kind>.fixtures.yaml). They are ordinary rule set files: the config loader reads them
// like an operator's, and an operator can copy one into config/mappings/ to start from.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { mappingSchema, type MappingConfig } from '../config/schema.ts';
import { compileRuleSet } from './compile.ts';
import type { CompiledRuleSet, UpstreamKind } from './types.ts';

export const presetKinds: readonly UpstreamKind[] = ['entra', 'okta', 'auth0', 'oidc'];

// Always the files in src/claims/presets/, also when this module runs compiled from dist/claims/
// (both are two levels below the project root): one copy, the one the README points operators to.
const presetsDir = new URL('../../src/claims/presets/', import.meta.url);

/** Absolute path of src/claims/presets/<kind>.yaml. */
export const presetFile = (kind: UpstreamKind): string => fileURLToPath(new URL(`${kind}.yaml`, presetsDir));

/** Absolute path of src/claims/presets/<kind>.fixtures.yaml. */
export const presetFixturesFile = (kind: UpstreamKind): string => fileURLToPath(new URL(`${kind}.fixtures.yaml`, presetsDir));

/**
 * Reads, validates and compiles a preset (tests, benchmarks, tools; the server goes through the
 * config loader, which reports problems at file:line:col). Throws on any problem.
 */
export function loadPreset(kind: UpstreamKind): { config: MappingConfig; ruleSet: CompiledRuleSet } {
  const file = presetFile(kind);
  const parsed = mappingSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const compiled = compileRuleSet(parsed.data);
  if (!compiled.ok) throw new Error(`${file}: ${compiled.problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  return { config: parsed.data, ruleSet: compiled.ruleSet };
}
