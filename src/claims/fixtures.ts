// Fixture files: sample upstream claims with the canonical claims a rule set must make of them,
// kept next to the rule set (<id>.fixtures.yaml) and run by tests and `consulate check`.
//
//   - name: alice, verified, two groups
//     upstream: { issuer: https://login.example/tenant/v2.0 }   # optional: overrides the upstream's
//     claims: { sub: "00u1", email: Alice@Example.com, groups: [a, b] }
//     expect: { orig_sub: "00u1", email: alice@example.com, groups: [a, b], roles: null }  # null: absent
//   - name: contractors are refused
//     claims: { ... }
//     expect_denied: contractors        # part of the deny rule's reason
//   - name: no e-mail
//     claims: { ... }
//     expect_missing: [email]
//   - name: a 1 MB claim
//     claims: { ... }
//     expect_failure: invalid_claims    # or evaluation_failed
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { mapClaims } from './evaluate.ts';
import type { CompiledRuleSet, MappingInput, MappingResult } from './types.ts';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// z.unknown() keeps the object as written (z.record would drop a `__proto__` key, and a fixture
// may be about exactly that key).
const claimsObject = z.unknown().refine(isRecord, 'a map of claims');

export const fixtureCaseSchema = z
  .strictObject({
    name: z.string().min(1).max(200).describe('What this case shows; printed when it fails.'),
    upstream: z
      .strictObject({ id: z.string().min(1).optional(), issuer: z.string().min(1).optional() })
      .optional()
      .describe("Overrides the upstream's id or issuer (orig_iss) for this case."),
    claims: claimsObject.describe('The upstream ID token / userinfo claims.'),
    expect: claimsObject.optional().describe('Canonical claims the result must contain (a subset; null = the claim must be absent).'),
    expect_denied: z.string().min(1).optional().describe("The login is refused by a deny rule whose reason contains this text."),
    expect_missing: z.array(z.string()).min(1).optional().describe('The login is refused because exactly these required claims are missing.'),
    expect_failure: z.enum(['invalid_claims', 'evaluation_failed']).optional().describe('The mapping fails this way.'),
  })
  .refine((c) => [c.expect, c.expect_denied, c.expect_missing, c.expect_failure].filter((e) => e !== undefined).length === 1, {
    message: 'a case needs exactly one of expect, expect_denied, expect_missing, expect_failure',
  })
  .describe('A fixture case: upstream claims and what the rule set must make of them.');

export const fixtureFileSchema = z.array(fixtureCaseSchema).describe('Fixture cases for a claims mapping rule set (<id>.fixtures.yaml).');

export type FixtureCase = z.output<typeof fixtureCaseSchema>;
export type FixtureResult = { name: string; index: number; pass: boolean; diff: string[]; result: MappingResult };

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

const outcome = (result: MappingResult): string => {
  if (result.ok) return 'the login is allowed';
  if (result.reason === 'denied') return `denied by deny[${result.rule}]: ${JSON.stringify(result.message)}`;
  if (result.reason === 'missing') return `refused, missing ${result.claims.join(', ')}`;
  return `${result.reason}: ${result.detail}`;
};

function check(fixture: FixtureCase, result: MappingResult): string[] {
  const diff: string[] = [];
  if (fixture.expect !== undefined) {
    if (!result.ok) return [`expected the login to be allowed, but it was ${outcome(result)}`];
    const expected = fixture.expect as Record<string, unknown>;
    for (const claim of Object.keys(expected)) {
      const want = expected[claim];
      const got = Object.hasOwn(result.canonical, claim) ? result.canonical[claim] : undefined;
      if (want === null ? got !== undefined : !isDeepStrictEqual(got, want)) diff.push(`${claim}: expected ${want === null ? '(absent)' : show(want)}, got ${show(got)}`);
    }
  } else if (fixture.expect_denied !== undefined) {
    if (result.ok || result.reason !== 'denied') diff.push(`expected a deny rule to refuse the login, but ${result.ok ? 'it was allowed' : `it was ${outcome(result)}`}`);
    else if (!result.message.toLowerCase().includes(fixture.expect_denied.toLowerCase())) diff.push(`expected the reason to contain ${JSON.stringify(fixture.expect_denied)}, got ${JSON.stringify(result.message)}`);
  } else if (fixture.expect_missing !== undefined) {
    if (result.ok || result.reason !== 'missing') diff.push(`expected missing ${fixture.expect_missing.join(', ')}, but ${result.ok ? 'the login was allowed' : `it was ${outcome(result)}`}`);
    else if (!isDeepStrictEqual([...new Set(result.claims)].sort(), [...new Set(fixture.expect_missing)].sort())) diff.push(`expected missing ${fixture.expect_missing.join(', ')}, got missing ${result.claims.join(', ')}`);
  } else if (fixture.expect_failure !== undefined) {
    if (result.ok || result.reason !== fixture.expect_failure) diff.push(`expected ${fixture.expect_failure}, but ${result.ok ? 'the login was allowed' : `it was ${outcome(result)}`}`);
  }
  return diff;
}

/** Runs each case through the rule set; `upstream` is the upstream the rule set serves (its id, kind, issuer). */
export function runFixtures(ruleSet: CompiledRuleSet, cases: readonly FixtureCase[], upstream: MappingInput['upstream']): FixtureResult[] {
  return cases.map((fixture, index) => {
    const result = mapClaims(ruleSet, { upstream: { ...upstream, ...(fixture.upstream ?? {}) }, claims: fixture.claims });
    const diff = check(fixture, result);
    return { name: fixture.name, index, pass: diff.length === 0, diff, result };
  });
}

/** One line per case, failures followed by their diff lines. */
export function formatFixtureResults(results: readonly FixtureResult[]): string {
  return results.map((r) => `${r.pass ? 'ok  ' : 'FAIL'} ${r.name}${r.diff.map((d) => `\n       ${d}`).join('')}`).join('\n');
}
