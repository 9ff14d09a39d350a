import { describe, expect, it } from 'vitest';
import { compileRuleSet, denyFailedMessage, mapClaims } from '../../../src/claims/engine.ts';
import { canonical, compile, config, map, problems, upstream } from './helpers.ts';

const alice = { sub: 'u-1', email: 'Alice@Example.com', email_verified: true, name: 'Alice', groups: ['g1', 'g2'], dept: 'eng', level: 3 };

describe('mapping: provenance and subject', () => {
  it('orig_iss, orig_sub and upstream come first, with a trace for each claim', () => {
    const result = map('claims:\n  email: claims.email\n', alice);
    expect(result).toMatchObject({ ok: true, canonical: { orig_iss: 'https://idp.example', orig_sub: 'u-1', upstream: 'corp', email: 'Alice@Example.com' } });
    if (!result.ok) return;
    expect(Object.keys(result.canonical)).toEqual(['orig_iss', 'orig_sub', 'upstream', 'email']);
    expect(result.trace).toEqual([
      { claim: 'orig_iss', value: 'https://idp.example', source: 'upstream', rule: 'upstream.issuer' },
      { claim: 'orig_sub', value: 'u-1', source: 'expr', rule: 'subject', expr: 'claims.sub' },
      { claim: 'upstream', value: 'corp', source: 'upstream', rule: 'upstream.id' },
      { claim: 'email', value: 'Alice@Example.com', source: 'expr', rule: 'claims.email', expr: 'claims.email' },
    ]);
  });

  it('a subject from several claims, e.g. tenant + object id', () => {
    const compiled = compileRuleSet({ ...config(''), subject: 'claims.tid + ":" + claims.oid' });
    if (!compiled.ok) throw new Error('compile');
    const result = mapClaims(compiled.ruleSet, { upstream, claims: { tid: 't1', oid: 'o1' } });
    expect(result.ok && result.canonical.orig_sub).toBe('t1:o1');
  });

  it('a missing, empty, non-string or over-long subject fails the mapping', () => {
    for (const claims of [{}, { sub: '' }, { sub: 42 }, { sub: 'x'.repeat(257) }, { sub: null }]) {
      const result = map('', claims);
      expect(result).toMatchObject({ ok: false, reason: 'evaluation_failed' });
      expect(!result.ok && 'detail' in result && result.detail).toMatch(/^subject \(claims\.sub\)/);
    }
    expect(map('', { sub: 'x'.repeat(256) }).ok).toBe(true);
  });

  it('acr, amr and auth_time are copied when well-typed, noted and left out otherwise', () => {
    const ok = map('', { sub: 's', acr: 'mfa', amr: ['pwd', 'otp'], auth_time: 1700000000 });
    expect(ok).toMatchObject({ ok: true, canonical: { acr: 'mfa', amr: ['pwd', 'otp'], auth_time: 1700000000 } });
    const bad = map('', { sub: 's', acr: 7, amr: ['pwd', 1], auth_time: 'yesterday' });
    expect(bad.ok && bad.canonical).toEqual({ orig_iss: 'https://idp.example', orig_sub: 's', upstream: 'corp' });
    expect(bad.ok && bad.trace.filter((t) => t.source === 'upstream' && t.rule !== 'upstream.issuer' && t.rule !== 'upstream.id').map((t) => [t.claim, t.value, t.note?.startsWith('ignored')])).toEqual([
      ['acr', undefined, true],
      ['amr', undefined, true],
      ['auth_time', undefined, true],
    ]);
  });

  it('upstream (id, kind, issuer) is visible to expressions', () => {
    expect(canonical('claims:\n  idp: upstream.id + "/" + upstream.kind + "/" + upstream.issuer\n', { sub: 's' }).idp).toBe('corp/oidc/https://idp.example');
  });
});

describe('mapping: claim rule shapes', () => {
  it('bare strings are expressions; claims are evaluated in file order', () => {
    const result = canonical('claims:\n  name: claims.name\n  email: claims.email\n  dept_upper: claims.dept.upperAscii()\n', alice);
    expect(Object.keys(result).slice(3)).toEqual(['name', 'email', 'dept_upper']);
    expect(result.dept_upper).toBe('ENG');
  });

  it('a missing upstream claim is "no value": default, else left out — and the trace says so', () => {
    const result = map('claims:\n  email: claims.email\n  nickname:\n    expr: claims.nickname\n    default: anonymous\n', { sub: 's' });
    expect(result.ok && result.canonical).toMatchObject({ nickname: 'anonymous' });
    expect(result.ok && result.canonical).not.toHaveProperty('email');
    expect(result.ok && result.trace.slice(3)).toEqual([
      { claim: 'email', value: undefined, source: 'default', rule: 'claims.email', expr: 'claims.email', note: 'No such key: email: left out' },
      { claim: 'nickname', value: 'anonymous', source: 'default', rule: 'claims.nickname', expr: 'claims.nickname', note: 'No such key: nickname: default' },
    ]);
  });

  it('a missing list item or nested key is no value too', () => {
    const result = canonical('claims:\n  first_group: claims.groups[5]\n  city: claims.address.locality\n', { sub: 's', groups: [] });
    expect(result).not.toHaveProperty('first_group');
    expect(result).not.toHaveProperty('city');
  });

  it('null, empty strings, lists and maps get the default', () => {
    const yaml = 'claims:\n  a:\n    expr: claims.a\n    default: none\n';
    for (const a of [null, '', [], {}]) expect(canonical(yaml, { sub: 's', a }).a).toBe('none');
    expect(canonical(yaml, { sub: 's', a: false }).a).toBe(false);
    expect(canonical(yaml, { sub: 's', a: 0 }).a).toBe(0);
  });

  it('when: false → default or left out; true → expr', () => {
    const yaml = 'claims:\n  team:\n    expr: claims.dept\n    when: claims.level >= 3\n    default: none\n  staff:\n    expr: "true"\n    when: claims.dept == "eng"\n';
    expect(canonical(yaml, alice)).toMatchObject({ team: 'eng', staff: true });
    const junior = map(yaml, { ...alice, level: 1, dept: 'ops' });
    expect(junior.ok && junior.canonical).toMatchObject({ team: 'none' });
    expect(junior.ok && junior.canonical).not.toHaveProperty('staff');
    expect(junior.ok && junior.trace.find((t) => t.claim === 'team')).toMatchObject({ source: 'default', expr: 'claims.level >= 3', note: 'when is false: default' });
  });

  it('a when over a missing claim is false', () => {
    expect(canonical('claims:\n  team:\n    expr: claims.dept\n    when: claims.level >= 3\n', { sub: 's', dept: 'x' })).not.toHaveProperty('team');
  });

  it('default only (no expr)', () => {
    expect(canonical('claims:\n  roles:\n    default: []\n  tier:\n    default: basic\n', { sub: 's' })).toMatchObject({ roles: [], tier: 'basic' });
  });

  it('transforms in order: trim, lower, upper, unique, sort, first', () => {
    const yaml = [
      'claims:',
      '  email:',
      '    expr: claims.email',
      '    transform: [trim, lower]',
      '  groups:',
      '    expr: claims.groups',
      '    transform: [upper, unique, sort]',
      '  primary:',
      '    expr: claims.groups',
      '    transform: [sort, first]',
      '  levels:',
      '    expr: claims.levels',
      '    transform: [unique, sort]',
      '',
    ].join('\n');
    expect(canonical(yaml, { sub: 's', email: '  Bob@Example.COM ', groups: ['b', 'a', 'B', 'c'], levels: [3, 1, 3, 2] })).toMatchObject({
      email: 'bob@example.com',
      groups: ['A', 'B', 'C'],
      primary: 'B',
      levels: [1, 2, 3],
    });
  });

  it('a transform on a value of the wrong shape leaves the claim to its default, with a note', () => {
    const result = map('claims:\n  email:\n    expr: claims.email\n    transform: [lower]\n  tags:\n    expr: claims.tags\n    transform: [sort]\n    default: []\n', { sub: 's', email: 42, tags: ['a', 1] });
    expect(result.ok && result.canonical).not.toHaveProperty('email');
    expect(result.ok && result.canonical.tags).toEqual([]);
    expect(result.ok && result.trace.find((t) => t.claim === 'email')?.note).toBe('lower: expected a string or a list of strings, got int: left out');
  });

  it('first of an empty list, or trim to nothing, is no value', () => {
    expect(canonical('claims:\n  a:\n    expr: claims.l\n    transform: [first]\n    default: x\n  b:\n    expr: claims.s\n    transform: [trim]\n', { sub: 's', l: ['z'], s: '   ' })).toMatchObject({ a: 'z' });
    expect(canonical('claims:\n  a:\n    expr: claims.l\n    transform: [first]\n    default: x\n', { sub: 's', l: [] }).a).toBe('x');
    expect(canonical('claims:\n  b:\n    expr: claims.s\n    transform: [trim]\n', { sub: 's', s: '   ' })).not.toHaveProperty('b');
  });

  it('well-known claims keep their type: a value of another type is left out (or defaulted)', () => {
    const yaml = 'claims:\n  email: claims.email\n  email_verified:\n    expr: claims.email_verified\n    default: false\n  groups:\n    expr: claims.groups\n    default: []\n  name: claims.name\n';
    const result = map(yaml, { sub: 's', email: ['a@x'], email_verified: 'true', groups: ['a', 7], name: { first: 'A' } });
    expect(result.ok && result.canonical).toEqual({ orig_iss: 'https://idp.example', orig_sub: 's', upstream: 'corp', email_verified: false, groups: [] });
    expect(result.ok && result.trace.find((t) => t.claim === 'groups')?.note).toBe('groups must be a list<string>, got list: default');
  });

  it('tables: lookups by upstream value, with a fallback for unknown keys', () => {
    const yaml = [
      'tables:',
      '  group_roles:',
      '    g-admins: admin',
      '    g-eng: developer',
      '  dept_cost_center:',
      '    eng: 4100',
      'claims:',
      '  roles:',
      '    expr: claims.groups.filter(g, g in tables.group_roles).map(g, tables.group_roles[g])',
      '    transform: [unique, sort]',
      '    default: []',
      '  cost_center: tables.dept_cost_center[claims.dept]',
      '  cost_center_plus_one: tables.dept_cost_center[claims.dept] + 1',
      '  missing_lookup: tables.group_roles["nope"]',
      '',
    ].join('\n');
    const result = canonical(yaml, { sub: 's', groups: ['g-eng', 'g-other', 'g-admins', 'g-eng'], dept: 'eng' });
    expect(result).toMatchObject({ roles: ['admin', 'developer'], cost_center: 4100, cost_center_plus_one: 4101 });
    expect(result).not.toHaveProperty('missing_lookup');
  });

  it('integers from claims are CEL ints; results come back as numbers, never BigInt', () => {
    const result = canonical('claims:\n  next_level: claims.level + 1\n  big: \'9007199254740991\'\n  ratio: claims.level / 2\n  uint_value: uint(claims.level)\n  half: double(claims.level) / 2.0\n', alice);
    expect(result).toMatchObject({ next_level: 4, big: 9007199254740991, ratio: 1, uint_value: 3, half: 1.5 });
    for (const value of Object.values(result)) expect(typeof value).not.toBe('bigint');
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it('an integer beyond ±2^53 cannot go into a token: evaluation_failed', () => {
    expect(map("claims:\n  big: '9007199254740993'\n", { sub: 's' })).toMatchObject({ ok: false, reason: 'evaluation_failed', detail: expect.stringContaining('outside ±2^53') });
  });

  it('timestamps, bytes and durations must be converted in the expression', () => {
    expect(map('claims:\n  t: timestamp("2024-01-01T00:00:00Z")\n', { sub: 's' })).toMatchObject({ ok: false, reason: 'evaluation_failed' });
    expect(canonical('claims:\n  y: timestamp("2024-01-01T00:00:00Z").getFullYear()\n', { sub: 's' })).toMatchObject({ y: 2024 });
    expect(map('claims:\n  b: b"abc"\n', { sub: 's' })).toMatchObject({ ok: false, reason: 'evaluation_failed', detail: expect.stringContaining('Uint8Array') });
  });

  it('maps and nested lists are copied as plain JSON', () => {
    const result = canonical('claims:\n  profile: \'{"dept": claims.dept, "groups": claims.groups}\'\n', alice);
    expect(result.profile).toEqual({ dept: 'eng', groups: ['g1', 'g2'] });
    expect(Object.getPrototypeOf(result.profile)).toBe(Object.prototype);
  });

  it('namespaced claims and flatten()', () => {
    const result = canonical('claims:\n  roles: claims.filter(k, k.endsWith("/roles")).map(k, claims[k]).flatten()\n', { sub: 's', 'https://a.example/roles': ['x'], 'https://b.example/roles': ['y', 'z'] });
    expect(result.roles).toEqual(['x', 'y', 'z']);
  });

  it('matches() with an anchored literal pattern', () => {
    expect(canonical('claims:\n  corp:\n    expr: claims.email.matches("^[^@]+@example\\\\.com$")\n', { sub: 's', email: 'a@example.com' }).corp).toBe(true);
  });

  it('runtime errors other than a missing claim fail the mapping, naming the rule', () => {
    expect(map('claims:\n  n: int(claims.dept)\n', alice)).toMatchObject({ ok: false, reason: 'evaluation_failed', detail: expect.stringMatching(/^claims\.n \(int\(claims\.dept\)\): int\(\) type error/) });
    expect(map('claims:\n  n: claims.email.lowerAscii()\n', { sub: 's', email: 42 })).toMatchObject({ ok: false, reason: 'evaluation_failed' });
    expect(map('claims:\n  n:\n    expr: "1"\n    when: claims.dept\n', alice)).toMatchObject({ ok: false, reason: 'evaluation_failed', detail: expect.stringContaining('must be a bool') });
  });
});

describe('mapping: deny and require', () => {
  const yaml = [
    'claims:',
    '  email:',
    '    expr: claims.email',
    '    transform: [lower]',
    '  email_verified:',
    '    expr: claims.email_verified == true',
    '    default: false',
    'deny:',
    '  - when: has(claims.dept) && claims.dept == "contractors"',
    '    reason: Contractors sign in through the partner portal.',
    '  - when: \'!canonical.email_verified\'',
    '    reason: Verify your e-mail address first.',
    '  - when: has(canonical.email) && !canonical.email.endsWith("@example.com")',
    '    reason: Only example.com accounts.',
    'require: [email]',
    '',
  ].join('\n');

  it('allows a login no deny rule fires on', () => {
    expect(map(yaml, alice).ok).toBe(true);
  });

  it('the first deny rule that fires refuses, with its reason and index', () => {
    const result = map(yaml, { ...alice, dept: 'contractors', email_verified: false });
    expect(result).toMatchObject({ ok: false, reason: 'denied', message: 'Contractors sign in through the partner portal.', rule: 0 });
    expect(!result.ok && 'trace' in result && result.trace.at(-1)).toEqual({ claim: 'deny', value: true, source: 'expr', rule: 'deny.0', expr: 'has(claims.dept) && claims.dept == "contractors"' });
  });

  it('deny rules see the canonical claims mapped so far', () => {
    expect(map(yaml, { ...alice, email_verified: false })).toMatchObject({ reason: 'denied', rule: 1 });
    expect(map(yaml, { ...alice, email: 'a@other.example' })).toMatchObject({ reason: 'denied', rule: 2, message: 'Only example.com accounts.' });
  });

  it('a deny rule that cannot be evaluated refuses the login (fail closed), detail in the trace', () => {
    const result = map('deny:\n  - when: claims.level > 2\n    reason: Too senior.\n', { sub: 's', level: 'high' });
    expect(result).toMatchObject({ ok: false, reason: 'denied', rule: 0, message: denyFailedMessage });
    expect(!result.ok && 'trace' in result && result.trace.at(-1)?.note).toMatch(/^evaluation failed \(no such overload/);
    // A missing claim is no exception: fail closed too.
    expect(map('deny:\n  - when: claims.level > 2\n    reason: Too senior.\n', { sub: 's' })).toMatchObject({ reason: 'denied', message: denyFailedMessage });
    // A rule written with has() does not fire on a missing claim.
    expect(map('deny:\n  - when: has(claims.level) && claims.level > 2\n    reason: Too senior.\n', { sub: 's' }).ok).toBe(true);
  });

  it('require: missing or empty claims refuse the login, listed', () => {
    expect(map(yaml, { sub: 's', email_verified: true })).toMatchObject({ ok: false, reason: 'missing', claims: ['email'] });
    const noEmail = 'claims:\n  email: claims.email\n  groups:\n    expr: claims.groups\n    default: []\nrequire: [email, groups, orig_sub]\n';
    expect(map(noEmail, { sub: 's' })).toMatchObject({ ok: false, reason: 'missing', claims: ['email', 'groups'] });
    expect(map(noEmail, { sub: 's', email: 'a@x', groups: ['g'] }).ok).toBe(true);
  });

  it('require may name acr (the upstream must send it)', () => {
    expect(map('require: [acr]\n', { sub: 's' })).toMatchObject({ reason: 'missing', claims: ['acr'] });
    expect(map('require: [acr]\n', { sub: 's', acr: 'mfa' }).ok).toBe(true);
  });
});

describe('compile problems, at their path', () => {
  it('a CEL syntax error', () => {
    const [problem, ...rest] = problems('claims:\n  email: claims.email +\n');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: ['claims', 'email'], message: expect.stringMatching(/^CEL syntax error: /) });
    expect(problems('claims:\n  email:\n    expr: claims.email)\n')[0]).toMatchObject({ path: ['claims', 'email', 'expr'] });
  });

  it('a type error: subject must be a string, when a bool', () => {
    expect(compileRuleSet({ ...config(''), subject: 'claims.groups.size()' })).toEqual({ ok: false, problems: [{ path: ['subject'], message: 'must be of type string, but this expression is of type int' }] });
    expect(problems('claims:\n  a:\n    expr: claims.a\n    when: claims.groups.size()\n')).toEqual([{ path: ['claims', 'a', 'when'], message: 'must be of type bool, but this expression is of type int' }]);
    expect(problems('deny:\n  - when: \'"yes"\'\n    reason: r\n')[0]).toMatchObject({ path: ['deny', 0, 'when'] });
    expect(problems('claims:\n  n: 1 + "a"\n')[0]).toMatchObject({ path: ['claims', 'n'], message: expect.stringMatching(/^CEL type error: /) });
  });

  it('a well-known claim of the wrong static type, or a default of the wrong type', () => {
    expect(problems('claims:\n  email: claims.groups.size()\n')).toEqual([{ path: ['claims', 'email'], message: 'must be of type string, but this expression is of type int' }]);
    expect(problems('claims:\n  groups:\n    expr: claims.groups\n    default: none\n')).toEqual([{ path: ['claims', 'groups', 'default'], message: 'groups is a list<string>; this default is a string' }]);
    expect(problems('claims:\n  email_verified: \'"yes"\'\n')[0]).toMatchObject({ path: ['claims', 'email_verified'] });
  });

  it('an unknown variable; canonical only in deny rules; an unknown table', () => {
    expect(problems('claims:\n  a: user.name\n')[0]).toMatchObject({ path: ['claims', 'a'], message: expect.stringContaining('Unknown variable: user') });
    expect(problems('claims:\n  a: canonical.email\n')[0]).toMatchObject({ path: ['claims', 'a'], message: expect.stringContaining('Unknown variable: canonical') });
    expect(problems('tables:\n  roles: {a: b}\nclaims:\n  a: tables.role[claims.g]\n')).toEqual([{ path: ['claims', 'a'], message: 'no table named "role" in this rule set (tables: roles)', offset: 0 }]);
    expect(problems('claims:\n  a: tables["nope"]\n')[0]).toMatchObject({ message: 'no table named "nope" in this rule set' });
  });

  it('reserved claims cannot be set by a rule', () => {
    const found = problems('claims:\n  sub: claims.sub\n  iss: \'"https://evil.example"\'\n  orig_sub: \'"x"\'\n  acr: \'"mfa"\'\n  aud: \'"x"\'\n');
    expect(found.map((p) => p.path)).toEqual([['claims', 'sub'], ['claims', 'iss'], ['claims', 'orig_sub'], ['claims', 'acr'], ['claims', 'aud']]);
    expect(found[0]?.message).toBe('sub is reserved: it is a protocol claim no rule may set');
    expect(found[3]?.message).toBe('acr is reserved: Consulate sets it from the upstream, not from a rule');
  });

  it('constructor and prototype cannot be claim names; a rule needs expr or default', () => {
    expect(problems('claims:\n  constructor: \'"x"\'\n  prototype: \'"x"\'\n  empty: {}\n').map((p) => [p.path, p.message])).toEqual([
      [['claims', 'constructor'], 'constructor cannot be a claim name'],
      [['claims', 'prototype'], 'prototype cannot be a claim name'],
      [['claims', 'empty'], 'a rule needs an expr, a default, or both'],
    ]);
  });

  it('require of a claim nothing produces', () => {
    expect(problems('require: [email]\n')).toEqual([{ path: ['require', 0], message: 'no rule produces email, so every login would be refused' }]);
  });

  it('reports every problem at once', () => {
    expect(problems('claims:\n  a: claims.a +\n  b: nope\n  sub: claims.sub\ndeny:\n  - when: "1"\n    reason: r\n').map((p) => p.path.join('.'))).toEqual(['claims.a', 'claims.b', 'claims.sub', 'deny.0.when']);
  });

  it('the offset of a CEL error within its expression', () => {
    expect(problems('claims:\n  a: claims.a + nope\n')[0]?.offset).toBe(11);
  });
});

describe('compiled once, evaluated many times', () => {
  it('one compiled rule set serves many claim sets and is frozen', () => {
    const ruleSet = compile('claims:\n  email: claims.email\n');
    expect(Object.isFrozen(ruleSet)).toBe(true);
    expect(ruleSet.id).toBe('test');
    for (let i = 0; i < 100; i++) expect(canonical(ruleSet, { sub: `u${i}`, email: `${i}@x` })).toMatchObject({ orig_sub: `u${i}`, email: `${i}@x` });
  });

  it('refuses a forged rule set', () => {
    expect(() => mapClaims({ id: 'x' }, { upstream, claims: {} })).toThrow(/not a rule set/);
  });
});
