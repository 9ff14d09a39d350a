// An approver's inbox on every backend (SQLite, PostgreSQL): the SQL condition agrees with the approver
// rules (mayDecide) for every rule kind and approver, and keyset paging walks the inbox newest first,
// each request exactly once, with the count of all of them.
import { expect, it } from 'vitest';
import { approverFrom, mayDecide, settle, type Approver } from '../../../src/consent/approvers.ts';
import type { ApprovalRecord, ApproverRule, InboxApprover, InboxPosition } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

const asInbox = (a: Approver): InboxApprover => ({ sub: a.sub, verifiedEmail: a.emailVerified ? a.email : undefined, groups: a.groups });

forEachBackend('approval inbox', (backend) => {
  const approvals = () => backend.store.approvals;
  const open = (id: string, options: { approvers?: ApproverRule; sub?: string | null; clientId?: string; createdAt?: number; expiresAt?: number } = {}) =>
    approvals().create({
      id,
      pollHash: `poll-${id}`,
      kind: 'ciba',
      clientId: options.clientId ?? 'bot',
      sub: options.sub === null ? undefined : (options.sub ?? 'p-ada'),
      request: { scopes: ['openid'] },
      approvers: options.approvers ?? { kind: 'subject' },
      intervalSeconds: 5,
      createdAt: options.createdAt ?? 100,
      expiresAt: options.expiresAt ?? 1000,
    });
  const all = async (approver: InboxApprover, now: number, limit: number, excludeClientId?: string) => {
    const seen: ApprovalRecord[] = [];
    const totals: number[] = [];
    let after: InboxPosition | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await approvals().inboxPage(approver, { now, limit, after, excludeClientId });
      expect(page.records.length).toBeLessThanOrEqual(limit);
      seen.push(...page.records);
      totals.push(page.total);
      if (!page.next) return { ids: seen.map((r) => r.id), totals, records: seen };
      after = page.next;
    }
    throw new Error('the walk did not end');
  };

  it('holds exactly the requests mayDecide lets each approver decide and they have not decided, open and unexpired', async () => {
    const people = {
      ada: approverFrom('p-ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] }),
      bob: approverFrom('p-bob', { email: 'bob@example.test', email_verified: true, groups: [] }),
      boss: approverFrom('p-boss', { email: 'Boss@Example.test', email_verified: true, groups: ['finance'] }),
      fake: approverFrom('p-fake', { email: 'boss@example.test', email_verified: false, groups: ['finance'] }),
      carol: approverFrom('p-carol', { email: 'carol@example.test', email_verified: true, groups: ['finance', 'eng'] }),
      owner: approverFrom('p-owner', { groups: ['finance'] }),
    };
    await open('s-ada');
    await open('s-bob', { sub: 'p-bob' });
    await open('s-none', { sub: null });
    await open('m-boss', { approvers: { kind: 'manager', email: 'boss@example.test' } });
    await open('m-other', { approvers: { kind: 'manager', email: 'someone@example.test' } });
    await open('d-fin', { approvers: { kind: 'dual', group: 'finance', exclude: ['p-owner'] } });
    await open('d-fin-carol', { sub: 'p-carol', approvers: { kind: 'dual', group: 'finance', exclude: [] } });
    await open('d-eng', { approvers: { kind: 'dual', group: 'eng', exclude: ['p-ada'] } });
    await open('d-decided', { approvers: { kind: 'dual', group: 'finance', exclude: [] } });
    await approvals().decide('d-decided', { approverSub: 'p-carol', decision: 'approve', decidedAt: 150 }, settle, 150);
    await open('s-ada-expired', { expiresAt: 300 });
    await open('s-ada-denied');
    await approvals().decide('s-ada-denied', { approverSub: 'p-ada', decision: 'deny', decidedAt: 150 }, settle, 150);

    const now = 400;
    const openRecords = await approvals().listOpen(now, 1000);
    for (const [name, person] of Object.entries(people)) {
      const expected = openRecords.filter((r) => mayDecide(r, person) && !r.decisions.some((d) => d.approverSub === person.sub)).map((r) => r.id).sort();
      const { ids, totals } = await all(asInbox(person), now, 2);
      expect(ids.slice().sort(), name).toEqual(expected);
      expect(new Set(totals), name).toEqual(new Set([expected.length]));
    }
    // Spelled out, so that a fault shared by the SQL and mayDecide cannot hide.
    expect((await all(asInbox(people.ada), now, 50)).ids.sort()).toEqual(['s-ada']);
    expect((await all(asInbox(people.boss), now, 50)).ids.sort()).toEqual(['d-decided', 'd-fin', 'd-fin-carol', 'm-boss']);
    expect((await all(asInbox(people.fake), now, 50)).ids.sort()).toEqual(['d-decided', 'd-fin', 'd-fin-carol']);
    expect((await all(asInbox(people.carol), now, 50)).ids.sort()).toEqual(['d-eng', 'd-fin']);
    expect((await all(asInbox(people.owner), now, 50)).ids.sort()).toEqual(['d-decided', 'd-fin-carol']);
  });

  it('newest first by (created, id), each request once over all pages, the same total on each; a client\'s own left out', async () => {
    const created = [100, 105, 105, 105, 110, 120, 120];
    for (const [i, at] of created.entries()) await open(`r${i}`, { createdAt: at, clientId: i === 3 ? 'own' : 'bot' });
    await open('other-person', { sub: 'p-bob', createdAt: 130 });
    const ada = asInbox(approverFrom('p-ada', {}));
    const walk = await all(ada, 200, 3);
    expect(walk.ids).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    expect(walk.totals).toEqual([7, 7, 7]);
    const first = await approvals().inboxPage(ada, { now: 200, limit: 7 });
    expect(first.next).toBeUndefined();
    const withoutOwn = await all(ada, 200, 2, 'own');
    expect(withoutOwn.ids).toEqual(['r6', 'r5', 'r4', 'r2', 'r1', 'r0']);
    expect(new Set(withoutOwn.totals)).toEqual(new Set([6]));
  });

  it('a request opened during a walk is on the first page and never on a later one', async () => {
    for (let i = 0; i < 5; i++) await open(`r${i}`, { createdAt: 100 + i });
    const ada = asInbox(approverFrom('p-ada', {}));
    const first = await approvals().inboxPage(ada, { now: 200, limit: 2 });
    expect(first.records.map((r) => r.id)).toEqual(['r4', 'r3']);
    await open('late', { createdAt: 150 });
    const rest: string[] = [];
    let after = first.next;
    while (after) {
      const page = await approvals().inboxPage(ada, { now: 200, limit: 2, after });
      expect(page.total).toBe(6);
      rest.push(...page.records.map((r) => r.id));
      after = page.next;
    }
    expect(rest).toEqual(['r2', 'r1', 'r0']);
    expect((await approvals().inboxPage(ada, { now: 200, limit: 2 })).records.map((r) => r.id)).toEqual(['late', 'r4']);
  });
});
