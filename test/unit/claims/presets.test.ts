// The built-in presets: valid rule set files, their fixtures pass, and for the stand-in upstreams'
// accounts they produce what the built-in default mapping (now reference-mapping.ts) produced.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { mapDefaultClaims } from './reference-mapping.ts';
import { compileRuleSet, fixtureFileSchema, formatFixtureResults, loadPreset, mapClaims, presetFile, presetFixturesFile, presetKinds, runFixtures, type UpstreamKind } from '../../../src/claims/engine.ts';
import { mappingSchema } from '../../../src/config/schema.ts';
import { defaultAccounts, defaultTenantAccounts, DEFAULT_ENTRA_TENANT_ID } from '../../../src/demo/upstream-accounts.ts';

const issuers: Record<UpstreamKind, string> = {
  entra: `https://login.microsoftonline.com/${DEFAULT_ENTRA_TENANT_ID}/v2.0`,
  okta: 'https://example.okta.com/oauth2/default',
  auth0: 'https://fabrikam.eu.auth0.com/',
  oidc: 'https://idp.example.org',
};
const upstreamOf = (kind: UpstreamKind) => ({ id: `${kind}-corp`, kind, issuer: issuers[kind] });

describe.each(presetKinds)('preset %s', (kind) => {
  it('is a valid rule set file that compiles', () => {
    const file = presetFile(kind);
    expect(isAbsolute(file) && existsSync(file)).toBe(true);
    const parsed = mappingSchema.safeParse(parse(readFileSync(file, 'utf8')));
    expect(parsed.success && parsed.data.id).toBe(kind);
    if (!parsed.success) return;
    expect(compileRuleSet(parsed.data)).toMatchObject({ ok: true, ruleSet: { id: kind } });
  });

  it('passes its fixtures', () => {
    const cases = fixtureFileSchema.parse(parse(readFileSync(presetFixturesFile(kind), 'utf8')));
    expect(cases.length).toBeGreaterThanOrEqual(4);
    const results = runFixtures(loadPreset(kind).ruleSet, cases, upstreamOf(kind));
    const failed = results.filter((r) => !r.pass);
    expect(failed.length, formatFixtureResults(results)).toBe(0);
  });

  it("matches the built-in default mapping for every stand-in account (with acr, amr, auth_time)", () => {
    const { ruleSet } = loadPreset(kind);
    const accounts = kind === 'entra' ? [...defaultAccounts(kind), ...Object.values(defaultTenantAccounts()).flat()] : defaultAccounts(kind);
    for (const account of accounts) {
      for (const extra of [{}, { acr: 'mfa', amr: ['pwd', 'mfa'], auth_time: 1767225590 }]) {
        const claims = { sub: account.id, ...account.claims, ...extra };
        const result = mapClaims(ruleSet, { upstream: upstreamOf(kind), claims });
        expect(result.ok, account.username).toBe(true);
        if (!result.ok) continue;
        expect(result.canonical, `${kind} ${account.username}`).toEqual(mapDefaultClaims(kind, `${kind}-corp`, issuers[kind], claims));
      }
    }
  });
});

describe('intended differences from the built-in default mapping', () => {
  const entra = () => loadPreset('entra').ruleSet;
  const run = (kind: UpstreamKind, claims: Record<string, unknown>) => mapClaims(kind === 'entra' ? entra() : loadPreset(kind).ruleSet, { upstream: upstreamOf(kind), claims });

  it('entra: without oid the login fails instead of keying the person on the pairwise sub', () => {
    expect(mapDefaultClaims('entra', 'c', 'i', { sub: 'pairwise', tid: 't' }).orig_sub).toBe('pairwise');
    expect(run('entra', { sub: 'pairwise', tid: 't' })).toMatchObject({ ok: false, reason: 'evaluation_failed' });
  });

  it('entra: xms_edov verifies the email claim only, not a UPN standing in for it', () => {
    const claims = { oid: 'o', preferred_username: 'a@contoso.example', xms_edov: true };
    expect(mapDefaultClaims('entra', 'c', 'i', claims).email_verified).toBe(true);
    expect(run('entra', claims)).toMatchObject({ ok: true, canonical: { email: 'a@contoso.example', email_verified: false } });
  });

  it('entra: groups overage is flagged (groups_overage: true), not silently an empty list', () => {
    const claims = { oid: 'o', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.windows.net/t/users/o/getMemberObjects' } } };
    expect(mapDefaultClaims('entra', 'c', 'i', claims)).not.toHaveProperty('groups_overage');
    expect(run('entra', claims)).toMatchObject({ ok: true, canonical: { groups: [], groups_overage: true } });
  });

  it('a list with non-string items is left at its default, not filtered (auth0 filters namespaced lists, and de-duplicates)', () => {
    expect(mapDefaultClaims('okta', 'c', 'i', { sub: 's', groups: ['a', 7] }).groups).toEqual(['a']);
    expect(run('okta', { sub: 's', groups: ['a', 7] })).toMatchObject({ ok: true, canonical: { groups: [] } });
    expect(run('auth0', { sub: 's', 'https://x.example/roles': ['admin', 7, 'admin'] })).toMatchObject({ ok: true, canonical: { roles: ['admin'] } });
  });

  it('e-mails are trimmed as well as lower-cased; strings are NFC', () => {
    expect(run('oidc', { sub: 's', email: ' A@X.example ', name: 'Zoe\u0308' })).toMatchObject({ ok: true, canonical: { email: 'a@x.example', name: 'Zo\u00eb' } });
  });

  it('over-long values are refused (invalid_claims) rather than cut: 1024 characters / 200 items before, 8 KiB / 500 items now', () => {
    expect(mapDefaultClaims('oidc', 'o', 'i', { sub: 's', name: 'n'.repeat(2000) })).not.toHaveProperty('name');
    expect(run('oidc', { sub: 's', name: 'n'.repeat(2000) })).toMatchObject({ ok: true, canonical: { name: 'n'.repeat(2000) } });
    expect(run('oidc', { sub: 's', groups: Array.from({ length: 501 }, (_, i) => `g${i}`) })).toMatchObject({ ok: false, reason: 'invalid_claims' });
  });
});

describe('fixtures', () => {
  it('a failing case says what differs', () => {
    const cases = fixtureFileSchema.parse(
      parse(`
- name: wrong e-mail
  claims: { sub: s, email: a@x.example }
  expect: { email: b@x.example, groups: [], roles: null, nope: null }
- name: expected a denial
  claims: { sub: s }
  expect_denied: contractors
- name: expected missing
  claims: { sub: s }
  expect_missing: [email]
- name: expected invalid claims
  claims: { sub: s }
  expect_failure: invalid_claims
- name: passes
  upstream: { issuer: https://other.example }
  claims: { sub: s }
  expect: { orig_iss: https://other.example, email: null }
`),
    );
    const results = runFixtures(loadPreset('oidc').ruleSet, cases, upstreamOf('oidc'));
    expect(results.map((r) => [r.name, r.pass, r.diff])).toEqual([
      ['wrong e-mail', false, ['email: expected "b@x.example", got "a@x.example"', 'roles: expected (absent), got []']],
      ['expected a denial', false, ['expected a deny rule to refuse the login, but it was allowed']],
      ['expected missing', false, ['expected missing email, but the login was allowed']],
      ['expected invalid claims', false, ['expected invalid_claims, but the login was allowed']],
      ['passes', true, []],
    ]);
    expect(formatFixtureResults(results).split('\n').slice(0, 3)).toEqual(['FAIL wrong e-mail', '       email: expected "b@x.example", got "a@x.example"', '       roles: expected (absent), got []']);
  });

  it('a case needs exactly one expectation, and keeps __proto__ keys in its claims', () => {
    expect(fixtureFileSchema.safeParse([{ name: 'x', claims: {} }]).success).toBe(false);
    expect(fixtureFileSchema.safeParse([{ name: 'x', claims: {}, expect: {}, expect_denied: 'y' }]).success).toBe(false);
    const [fixture] = fixtureFileSchema.parse(parse('- name: x\n  claims: { sub: s, __proto__: { admin: true } }\n  expect: {}\n'));
    expect(Object.hasOwn(fixture?.claims as object, '__proto__')).toBe(true);
  });
});
