// The policy engine: rules in order, allow / deny / obligations, CEL on authorization details,
// problems at file:line:col through loadConfig, and hostile inputs refused within bounds.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { evaluatePolicies, policyFailedMessage } from '../../../src/obligations/evaluate.ts';
import { compiledPolicies } from '../../../src/obligations/policies.ts';
import { stepUpSatisfied } from '../../../src/obligations/step-up.ts';
import type { PolicyInput } from '../../../src/obligations/types.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, writeConfigDir } from '../config/support.ts';

afterEach(removeConfigDirs);

const policyYaml = [
  'rules:',
  '  - name: blocked',
  '    when: has(person.blocked) && person.blocked == true',
  '    then: { deny: { reason: "This person may not delegate." } }',
  '  - name: big-payment',
  '    when: details.exists(d, d.type == "payment" && double(d.instructedAmount.amount) > 100.0)',
  '    then:',
  '      obligations:',
  '        consent: { approvers: { dual: { group: Finance } }, validity_seconds: 600 }',
  '  - name: writes',
  '    when: client.kind == "agent" && "write-data" in scopes',
  '    then: { obligations: { consent: { approvers: subject } } }',
  '  - name: admin',
  '    when: resource == "https://admin.example" && grant == "token_exchange"',
  '    then: { obligations: { step_up: { acr: "urn:mfa", max_age: 300 } } }',
  '  - name: manager-for-new-agents',
  '    when: risk.new_agent && risk.chain == 0',
  '    then: { obligations: { consent: { approvers: manager } } }',
  '  - name: reads',
  '    when: scopes.all(s, s == "read-data")',
  '    then: allow',
  'default: { deny: { reason: "Nothing else is allowed." } }',
  '',
].join('\n');

function policiesFrom(files: Record<string, string>) {
  return compiledPolicies(loadConfig(writeConfigDir({ ...baseFiles, ...files }), { env: {} }));
}

const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  client: { client_id: 'agent', kind: 'agent', owner: 'owner@example.test' },
  person: { email: 'ada@example.test' },
  scopes: ['read-data'],
  resource: 'https://api.example',
  details: [],
  grant: 'token_exchange',
  risk: { new_agent: false, chain: 0 },
  ...over,
});

describe('evaluatePolicies', () => {
  const policies = policiesFrom({ 'policies/main.yaml': policyYaml });

  it('with no policy allows', () => {
    expect(evaluatePolicies([], input())).toEqual({ decision: 'allow', trace: [] });
  });

  it('the first matching rule decides, in file order', () => {
    // blocked comes before writes: the person is refused although the agent also writes.
    const denied = evaluatePolicies(policies, input({ person: { blocked: true }, scopes: ['write-data'] }));
    expect(denied).toMatchObject({ decision: 'deny', reason: 'This person may not delegate.', policy: 'main', rule: 'blocked' });
    expect(denied.trace.map((t) => [t.rule, t.outcome])).toEqual([['blocked', 'matched']]);

    const writes = evaluatePolicies(policies, input({ scopes: ['read-data', 'write-data'] }));
    expect(writes).toMatchObject({ decision: 'obligations', policy: 'main', rule: 'writes', consent: { approvers: 'subject' } });
    expect(writes.trace.map((t) => t.outcome)).toEqual(['not matched', 'not matched', 'matched']);
  });

  it('allow, the default, and obligations with step_up', () => {
    expect(evaluatePolicies(policies, input())).toMatchObject({ decision: 'allow', policy: 'main', rule: 'reads' });
    expect(evaluatePolicies(policies, input({ scopes: ['other'] }))).toMatchObject({ decision: 'deny', rule: 'default', reason: 'Nothing else is allowed.' });
    expect(evaluatePolicies(policies, input({ resource: 'https://admin.example', scopes: ['x'] }))).toMatchObject({ decision: 'obligations', rule: 'admin', stepUp: { acr: 'urn:mfa', maxAge: 300 } });
    expect(evaluatePolicies(policies, input({ resource: 'https://admin.example', scopes: ['x'], grant: 'jwt_bearer' }))).toMatchObject({ decision: 'deny', rule: 'default' });
  });

  it('reads risk signals', () => {
    expect(evaluatePolicies(policies, input({ scopes: ['x'], risk: { new_agent: true, chain: 0 } }))).toMatchObject({ decision: 'obligations', rule: 'manager-for-new-agents', consent: { approvers: 'manager' } });
    expect(evaluatePolicies(policies, input({ scopes: ['x'], risk: { new_agent: true, chain: 1 } }))).toMatchObject({ decision: 'deny', rule: 'default' });
  });

  it('compares amounts in authorization details, as strings or numbers', () => {
    const payment = (amount: unknown) => input({ details: [{ type: 'tool', name: 'x' }, { type: 'payment', instructedAmount: { amount, currency: 'EUR' } }] });
    for (const amount of ['150.00', 150, 100.5]) expect(evaluatePolicies(policies, payment(amount)), String(amount)).toMatchObject({ decision: 'obligations', rule: 'big-payment', consent: { approvers: { dual: { group: 'Finance' } }, validitySeconds: 600 } });
    for (const amount of ['100', 99, '0.5']) expect(evaluatePolicies(policies, payment(amount)), String(amount)).toMatchObject({ decision: 'allow', rule: 'reads' });
  });

  it('fails closed: a condition that cannot be evaluated denies, naming the rule', () => {
    // A payment without instructedAmount: the big-payment condition errors.
    const result = evaluatePolicies(policies, input({ details: [{ type: 'payment' }] }));
    expect(result).toMatchObject({ decision: 'deny', reason: policyFailedMessage, rule: 'big-payment' });
    expect(result.trace.at(-1)).toMatchObject({ rule: 'big-payment', outcome: 'failed' });
    expect(result.trace.at(-1)?.note).toMatch(/evaluation failed/);
  });

  it('files apply in name order; the first that does not allow decides', () => {
    const both = policiesFrom({
      'policies/a.yaml': 'rules:\n  - name: fine\n    when: "true"\n    then: allow\n',
      'policies/b.yaml': 'rules:\n  - name: writes\n    when: "\'write-data\' in scopes"\n    then: { deny: { reason: No writes. } }\n',
    });
    expect(evaluatePolicies(both, input({ scopes: ['write-data'] }))).toMatchObject({ decision: 'deny', policy: 'b', rule: 'writes' });
    expect(evaluatePolicies(both, input())).toMatchObject({ decision: 'allow', policy: 'b', rule: 'default' });
  });

  it('refuses hostile inputs within the bounds: prototype keys ignored, oversized input denied', () => {
    const proto = JSON.parse('{"__proto__": {"blocked": true}, "email": "x@example.test"}') as Record<string, unknown>;
    expect(evaluatePolicies(policies, input({ person: proto }))).toMatchObject({ decision: 'allow' });
    const huge = input({ details: Array.from({ length: 600 }, () => ({ type: 'payment', instructedAmount: { amount: '1' } })) });
    expect(evaluatePolicies(policies, huge)).toMatchObject({ decision: 'deny', reason: policyFailedMessage, rule: '(input)' });
    const deep = input({ person: { a: { b: { c: { d: { e: { f: 1 } } } } } } });
    expect(evaluatePolicies(policies, deep)).toMatchObject({ decision: 'deny', rule: '(input)' });
    const started = performance.now();
    const many = input({ details: Array.from({ length: 500 }, (_, i) => ({ type: 'tool', n: i })) });
    expect(evaluatePolicies(policies, many).decision).toBe('allow');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('policy files in config', () => {
  it('the committed demo policy loads', () => {
    const demo = loadConfig(new URL('../../../config', import.meta.url).pathname, { env: {} });
    expect([...demo.policies.keys()]).toEqual(['demo']);
  });

  it('a CEL syntax error is a problem at the file:line:col of its when', () => {
    const text = policyYaml.replace('"write-data" in scopes', '"write-data" in scopes &&');
    const dir = writeConfigDir({ ...baseFiles, 'policies/main.yaml': text });
    const problems = problemsOf(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: shown(dir, 'policies/main.yaml'), ...positionOf(text, 'client.kind == "agent"'), path: 'rules[2].when' });
    expect(problems[0]?.message).toMatch(/^CEL syntax error/);
  });

  it('type errors, unknown variables, non-bool conditions and over-nested comprehensions are problems', () => {
    const text = [
      'rules:',
      '  - name: a',
      '    when: scopes + 1',
      '    then: allow',
      '  - name: b',
      '    when: claims.email == "x"',
      '    then: allow',
      '  - name: c',
      '    when: resource',
      '    then: allow',
      '  - name: d',
      '    when: details.exists(x, details.exists(y, details.exists(z, x == z)))',
      '    then: allow',
      '  - name: a',
      '    when: "true"',
      '    then: allow',
      '',
    ].join('\n');
    const dir = writeConfigDir({ ...baseFiles, 'policies/bad.yaml': text });
    const problems = problemsOf(dir);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(['rules[0].when', 'rules[1].when', 'rules[2].when', 'rules[3].when', 'rules[4].name']);
    expect(byPath['rules[0].when']?.message).toMatch(/CEL type error/);
    expect(byPath['rules[1].when']?.message).toMatch(/claims/);
    expect(byPath['rules[2].when']?.message).toMatch(/must be of type bool/);
    expect(byPath['rules[3].when']?.message).toMatch(/at most 2 levels/);
    expect(byPath['rules[4].name']?.message).toMatch(/defined twice/);
    expect(byPath['rules[2].when']).toMatchObject(positionOf(text, 'resource'));
  });

  it('shape errors are problems at their path: unknown keys, a bad then, obligations without any', () => {
    const text = ['rules:', '  - name: a', '    when: "true"', '    then: maybe', '  - name: b', '    when: "true"', '    then: { obligations: {} }', '    extra: 1', 'default: allow', ''].join('\n');
    const dir = writeConfigDir({ ...baseFiles, 'policies/shape.yaml': text });
    const paths = problemsOf(dir).map((p) => `${p.path}@${p.line}`);
    expect(paths).toEqual(expect.arrayContaining(['rules[0].then@4', 'rules[1].extra@8']));
    expect(paths.some((p) => p.startsWith('rules[1].then'))).toBe(true);
  });
});

describe('stepUpSatisfied', () => {
  const now = 1_700_000_000;
  it('needs the acr and a recent enough authentication', () => {
    expect(stepUpSatisfied({ acr: 'urn:mfa' }, { authTime: now - 10, acr: 'urn:mfa' }, now)).toBe(true);
    expect(stepUpSatisfied({ acr: 'urn:mfa' }, { authTime: now - 10, acr: 'urn:pwd' }, now)).toBe(false);
    expect(stepUpSatisfied({ maxAge: 60 }, { authTime: now - 61 }, now)).toBe(false);
    expect(stepUpSatisfied({ maxAge: 60 }, { authTime: now - 60 }, now)).toBe(true);
    expect(stepUpSatisfied({ maxAge: 60 }, undefined, now)).toBe(false);
  });
});
