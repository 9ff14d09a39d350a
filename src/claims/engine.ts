// The claims mapping engine (pure): rule sets of CEL expressions (config/mappings/*.yaml, presets
// in presets/) turn an upstream's claims into canonical claims with provenance and a trace.
//
//   const compiled = compileRuleSet(config)            // once per (re)load: parse, bound, type-check
//   if (!compiled.ok) → compiled.problems (path into the config, message)
//   const result = mapClaims(compiled.ruleSet, { upstream: { id, kind, issuer }, claims })
//
// CEL sees `claims` (the upstream claims, sanitized: see sanitize.ts), `tables`, `upstream` (id,
// kind, issuer) and, in deny rules, `canonical` (the claims mapped so far). Integers are CEL ints
// (BigInt) inside expressions and plain numbers in the result.
export type { CanonicalClaims } from './canonical.ts';
export type { ClaimTrace, CompileProblem, CompiledRuleSet, MappingInput, MappingResult, UpstreamKind } from './types.ts';
export { compileRuleSet, claimTypes } from './compile.ts';
export { mapClaims, denyFailedMessage } from './evaluate.ts';
export { presetFile, presetFixturesFile, presetKinds, loadPreset } from './presets.ts';
export { fixtureCaseSchema, fixtureFileSchema, runFixtures, formatFixtureResults, type FixtureCase, type FixtureResult } from './fixtures.ts';
export { expressionLimits, valueLimits } from './limits.ts';
