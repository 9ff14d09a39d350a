// The decision trail's helpers and its rendering, on hand-made inputs: the mapping provenance holds
// claim names and rule ids but never a value; a stored obligation is read back defensively; the
// policy decisions become short codes; receipts written before trails existed, and receipts of other
// kinds, still get an explanation.
import { describe, expect, it } from 'vitest';
import { explainReceipt } from '../../../src/audit/explain.ts';
import { mappingFromTrace, mappingOfClaims, obligationOf, readObligation } from '../../../src/audit/trail.ts';
import type { AuditRecord } from '../../../src/store/ports.ts';

const record = (over: Partial<AuditRecord>): AuditRecord => ({ id: '01938000-0000-7000-8000-000000000001', atMs: Date.UTC(2026, 11, 7, 9, 0, 0), event: 'passport.issued', details: {}, seq: 1, prevHash: '0'.repeat(64), hash: 'f'.repeat(64), ...over });

describe('decision trail', () => {
  const config = {
    upstreams: new Map([['okta', { id: 'okta', kind: 'okta', mapping: 'corp' }]]),
    mappings: new Map([['corp', { claims: { email: {}, groups: {} } }]]),
  } as never;

  it("a person's stored claims: the upstream's rule set and each claim's rule, no values; a claim the rule set does not name is '?'", () => {
    const mapping = mappingOfClaims(config, { sub: 'p-1', orig_iss: 'https://okta.example', orig_sub: 'u-1', upstream: 'okta', email: 'alice@example.com', groups: ['eng'], nickname: 'Al', acr: 'mfa' });
    expect(mapping).toEqual({ upstream: 'okta', rule_set: 'corp', orig_iss: 'https://okta.example', claims: { orig_sub: 'subject', email: 'claims.email', groups: 'claims.groups', nickname: '?', acr: 'acr' } });
    expect(JSON.stringify(mapping)).not.toContain('alice@example.com');
    expect(mappingOfClaims(config, { sub: 'p-2', email: 'x@example.com' })).toBeUndefined();
  });

  it('a mapping as it ran marks defaults and leaves out claims without a value', () => {
    const mapping = mappingFromTrace('issuer:partner', 'preset:oidc', [
      { claim: 'orig_iss', value: 'https://partner.example', source: 'upstream', rule: 'upstream.issuer' },
      { claim: 'orig_sub', value: 'p-ada', source: 'expr', rule: 'subject', expr: 'claims.sub' },
      { claim: 'email', value: 'ada@partner.example', source: 'expr', rule: 'claims.email' },
      { claim: 'groups', value: [], source: 'default', rule: 'claims.groups' },
      { claim: 'name', value: undefined, source: 'default', rule: 'claims.name', note: 'no value: left out' },
    ]);
    expect(mapping).toEqual({ upstream: 'issuer:partner', rule_set: 'preset:oidc', orig_iss: 'https://partner.example', claims: { orig_sub: 'subject', email: 'claims.email', groups: 'claims.groups (default)' } });
  });

  it('policy decisions as short codes; a stored obligation read back only when well formed', () => {
    expect(obligationOf({ decision: 'allow', trace: [] })).toBeUndefined();
    expect(obligationOf({ decision: 'obligations', policy: 'orders', rule: 'big', stepUp: { acr: 'mfa', maxAge: 300 }, consent: { approvers: { dual: { group: 'Finance' } } }, trace: [] })).toEqual({
      policy: 'orders',
      rule: 'big',
      outcome: 'obligations',
      requires: ['consent dual group=Finance', 'step_up acr=mfa max_age=300'],
    });
    expect(readObligation({ policy: 'orders', rule: 'default', outcome: 'allow', requires: [1, 'x'] })).toEqual({ policy: 'orders', rule: 'default', outcome: 'allow', requires: ['x'] });
    expect(readObligation({ policy: 'orders', rule: 'default', outcome: 'maybe' })).toBeUndefined();
    expect(readObligation('orders/default')).toBeUndefined();
  });

  it('a receipt from before trails, and a receipt of another kind, are still explained', () => {
    const old = explainReceipt(record({ clientId: 'agent-basic', subject: 'agent-basic', details: { grant_type: 'client_credentials', aud: 'https://api.example', scope: 'read', exp: Date.UTC(2026, 11, 7, 9, 5, 0) / 1000, dpop_jkt: null } }));
    expect(old).toMatchObject({ outcome: 'issued', summary: 'Passport issued to agent-basic for itself at https://api.example (client credentials)', lines: ['DPoP: not bound (Bearer)', 'expires 2026-12-07T09:05:00Z'] });
    expect(old.decided).toBeUndefined();
    const denied = explainReceipt(record({ event: 'passport.denied', clientId: 'agent-basic', details: { grant_type: 'client_credentials', error: 'invalid_scope', reason: 'scope not allowed: admin' } }));
    expect(denied).toMatchObject({ outcome: 'refused', decided: { step: 'unknown', rule: 'scope not allowed: admin' } });
    const login = explainReceipt(record({ event: 'login.upstream', subject: 'p-1', details: { upstream: 'okta', linked_by: 'account' } }), { person: 'alice@example.com' });
    expect(login).toMatchObject({ outcome: 'recorded', summary: 'login.upstream for alice@example.com (sub p-1)', lines: ['upstream: okta', 'linked_by: account'] });
  });

  it('a paused request is pending at the obligations step, naming the approval it waits for, not refused', () => {
    const trail = { client_auth: 'client_secret_basic', obligation: { policy: 'orders', rule: 'writes', outcome: 'obligations', requires: ['consent subject'] }, approval: { id: 'ap-1', approvers: 'subject' } };
    const paused = explainReceipt(record({ event: 'passport.paused', clientId: 'shopper', subject: 'p-1', details: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', approval: 'ap-1', reason: 'paused_for_approval:orders/writes:ap-1', trail } }));
    expect(paused).toMatchObject({ outcome: 'pending', summary: "Not yet: shopper's token exchange request is waiting for approval ap-1", decided: { step: 'grant.obligations', rule: 'paused_for_approval:orders/writes:ap-1' } });
    expect(paused.lines).toEqual(expect.arrayContaining(['obligation: policy orders, rule writes: required consent subject', 'approval ap-1 (approvers: subject): no decision yet']));
  });
});
