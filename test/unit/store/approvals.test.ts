// Approval requests on every backend (SQLite, PostgreSQL) with the approver rules: polls and
// slow_down, decisions settling a request once, the same person twice, single issuance, claiming (device).
import { describe, expect, it } from 'vitest';
import { mayDecide, settle, approverFrom } from '../../../src/consent/approvers.ts';
import type { ApproverRule } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('approval requests', (backend) => {

  const open = (id: string, approvers: ApproverRule = { kind: 'subject' }, sub: string | null = 'p-ada') =>
    backend.store.approvals.create({ id, pollHash: `poll-${id}`, kind: 'ciba', clientId: 'bot', sub: sub ?? undefined, request: { scopes: ['openid'] }, approvers, intervalSeconds: 5, createdAt: 100, expiresAt: 400 });
  const decide = (id: string, approverSub: string, decision: 'approve' | 'deny', at = 150) => backend.store.approvals.decide(id, { approverSub, decision, decidedAt: at }, settle, at);

  it('a poll sooner than the interval is slow_down, and the interval grows for good', async () => {
    await open('a');
    expect(await backend.store.approvals.poll('poll-a', 'bot', 100)).toMatchObject({ status: 'ok', record: { intervalSeconds: 5 } });
    expect(await backend.store.approvals.poll('poll-a', 'bot', 103)).toMatchObject({ status: 'slow_down', record: { intervalSeconds: 10 } });
    expect(await backend.store.approvals.poll('poll-a', 'bot', 110)).toMatchObject({ status: 'slow_down', record: { intervalSeconds: 15 } });
    expect(await backend.store.approvals.poll('poll-a', 'bot', 125)).toMatchObject({ status: 'ok', record: { intervalSeconds: 15 } });
    // Another client, or an unknown token: nothing.
    expect(await backend.store.approvals.poll('poll-a', 'other', 200)).toEqual({ status: 'unknown' });
    expect(await backend.store.approvals.poll('nope', 'bot', 200)).toEqual({ status: 'unknown' });
  });

  it('one approval settles a subject request; it is issued exactly once', async () => {
    await open('a');
    expect(await decide('a', 'p-ada', 'approve')).toMatchObject({ status: 'recorded', record: { status: 'approved' } });
    expect(await decide('a', 'p-ada', 'deny')).toEqual({ status: 'closed' });
    expect(await backend.store.approvals.markIssued('a', 160)).toBe(true);
    expect(await backend.store.approvals.markIssued('a', 161)).toBe(false);
    expect((await backend.store.approvals.find('a'))?.status).toBe('issued');
  });

  it('dual needs two different people; the same person twice is refused; any denial denies', async () => {
    await open('d', { kind: 'dual', group: 'finance', exclude: ['p-ada'] });
    expect(await decide('d', 'p-carol', 'approve')).toMatchObject({ status: 'recorded', record: { status: 'pending' } });
    expect(await decide('d', 'p-carol', 'approve')).toEqual({ status: 'duplicate' });
    expect(await decide('d', 'p-dave', 'approve')).toMatchObject({ status: 'recorded', record: { status: 'approved' } });
    await open('e', { kind: 'dual', group: 'finance', exclude: [] });
    await decide('e', 'p-carol', 'approve');
    expect(await decide('e', 'p-dave', 'deny')).toMatchObject({ record: { status: 'denied' } });
  });

  it('an expired request takes no decision; a device request is claimed once', async () => {
    await open('x');
    expect(await decide('x', 'p-ada', 'approve', 400)).toEqual({ status: 'closed' });
    await open('dev', { kind: 'subject' }, null);
    expect(await backend.store.approvals.claim('dev', 'p-bob', 120)).toBe(true);
    expect(await backend.store.approvals.claim('dev', 'p-eve', 121)).toBe(false);
    expect((await backend.store.approvals.find('dev'))?.sub).toBe('p-bob');
    expect((await backend.store.approvals.listOpen(200)).map((r) => r.id).sort()).toEqual(['dev', 'x']);
    expect((await backend.store.approvals.listOpen(400)).map((r) => r.id)).toEqual([]);
  });
});

describe('approver rules', () => {
  const ada = approverFrom('p-ada', { email: 'Ada@Example.test', email_verified: true, groups: ['eng'] });
  const boss = approverFrom('p-boss', { email: 'boss@example.test', email_verified: true, groups: ['finance'] });
  const unverified = approverFrom('p-fake', { email: 'boss@example.test', email_verified: false, groups: ['finance'] });
  it('subject: only the person represented', () => {
    expect(mayDecide({ sub: 'p-ada', approvers: { kind: 'subject' } }, ada)).toBe(true);
    expect(mayDecide({ sub: 'p-ada', approvers: { kind: 'subject' } }, boss)).toBe(false);
    expect(mayDecide({ sub: undefined, approvers: { kind: 'subject' } }, ada)).toBe(false);
  });
  it('manager: the verified e-mail named, any case', () => {
    expect(mayDecide({ sub: 'p-ada', approvers: { kind: 'manager', email: 'BOSS@example.test' } }, boss)).toBe(true);
    expect(mayDecide({ sub: 'p-ada', approvers: { kind: 'manager', email: 'boss@example.test' } }, unverified)).toBe(false);
  });
  it('dual: members of the group, never the excluded or the person represented', () => {
    const rule = { kind: 'dual' as const, group: 'finance', exclude: ['p-owner'] };
    expect(mayDecide({ sub: 'p-ada', approvers: rule }, boss)).toBe(true);
    expect(mayDecide({ sub: 'p-ada', approvers: rule }, ada)).toBe(false);
    expect(mayDecide({ sub: 'p-boss', approvers: rule }, boss)).toBe(false);
    expect(mayDecide({ sub: 'p-ada', approvers: { ...rule, exclude: ['p-boss'] } }, boss)).toBe(false);
  });
});
