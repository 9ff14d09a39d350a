// Two nodes on one database (two Store instances, each with its own connections): the single-use and
// atomic rules hold across them. Runs on every backend; PostgreSQL is the one where it matters (the
// SQLite half checks the same promises with two connections to one file).
import { expect, it } from 'vitest';
import { settle } from '../../../src/consent/approvers.ts';
import type { Store } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('two nodes on one database', (backend) => {
  const now = 1_800_000_000;
  const nodes = async (): Promise<[Store, Store]> => [backend.store, await backend.open()];

  it('20 concurrent redemptions of one code split over both nodes: exactly one first', async () => {
    const [a, b] = await nodes();
    await a.authorizations.saveCode({ codeHash: 'h', clientId: 'c', familyId: 'f', grant: { sub: 'p' }, expiresAt: now + 60 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).authorizations.redeemCode('h', now)));
    expect(outcomes.filter((o) => o.status === 'first')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'reused')).toHaveLength(19);
    for (const o of outcomes) expect(o).toMatchObject({ record: { familyId: 'f', grant: { sub: 'p' } } });
  });

  it('a pushed request goes to one browser of ten presenting it at once across nodes, and is completed once', async () => {
    const [a, b] = await nodes();
    await a.authorizations.savePushed({ idHash: 'u', clientId: 'c', params: { scope: 'openid', resource: ['x', 'y'] }, expiresAt: now + 60 });
    const presented = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).authorizations.presentPushed('u', 'c', `browser-${i}`, now)));
    expect(presented.filter((p) => p.status === 'ok')).toEqual([{ status: 'ok', request: { idHash: 'u', clientId: 'c', params: { scope: 'openid', resource: ['x', 'y'] }, expiresAt: now + 60 } }]);
    expect(presented.filter((p) => p.status === 'other_browser')).toHaveLength(9);
    const winner = `browser-${presented.findIndex((p) => p.status === 'ok')}`;
    expect((await a.authorizations.presentPushed('u', 'c', winner, now)).status).toBe('ok');
    expect((await b.authorizations.presentPushed('u', 'c', winner, now)).status).toBe('ok');
    const completed = await Promise.all([a, b, a, b].map((node) => node.authorizations.completePushed('u', now)));
    expect(completed.filter(Boolean)).toHaveLength(1);
    expect((await b.authorizations.presentPushed('u', 'c', winner, now)).status).toBe('completed');
  });

  it('a refresh token reused across nodes: one winner, the family revoked with the Passport the winner adds meanwhile and what was exchanged from it', async () => {
    const [a, b] = await nodes();
    const families = Array.from({ length: 8 }, (_, i) => i);
    for (const i of families) {
      await a.families.createFamily({ id: `f${i}`, clientId: 'c', sub: 'p', createdAt: now, expiresAt: now + 3600 });
      await a.families.saveRefresh({ tokenHash: `r${i}`, familyId: `f${i}`, clientId: 'c', grant: { sub: 'p' }, createdAt: now, expiresAt: now + 3600 });
    }
    const statuses = await Promise.all(
      families.map((i) =>
        Promise.all(
          [a, b, b, a].map(async (node, k) => {
            const other = node === a ? b : a;
            const rotation = await node.families.rotateRefresh(`r${i}`, now);
            if (rotation.status === 'first') {
              // The winner issues a Passport; an agent exchanges it on the other node.
              await node.families.addPassport(`f${i}`, `p${i}`, now + 600, now);
              await other.lineage.record({ jti: `x${i}`, parentJti: `p${i}`, clientId: 'agent', sub: 'p', expiresAt: now + 600 }, now);
            } else if (rotation.status === 'reused') {
              // What the refresh grant does on a reuse (revokeOnReuse).
              await node.families.revokeFamily(`f${i}`, now + k);
            }
            return rotation.status;
          }),
        ),
      ),
    );
    for (const i of families) {
      expect(statuses[i]?.slice().sort()).toEqual(['first', 'reused', 'reused', 'reused']);
      expect([await a.families.isRevoked(`f${i}`, now), await b.families.isRevoked(`f${i}`, now)]).toEqual([true, true]);
      expect([await a.revocations.isRevoked(`p${i}`), await b.revocations.isRevoked(`x${i}`)]).toEqual([true, true]);
      expect((await b.families.findRefresh(`r${i}`, now))?.familyId).toBe(`f${i}`);
    }
  });

  it('50 concurrent budget reports over both nodes never overspend: exactly the budget is counted', async () => {
    const [a, b] = await nodes();
    await a.delegations.create({ did: 'd', sub: 'p', clientId: 'bot', origin: 'passport', createdAt: now, expiresAt: now + 600, budget: { uses: 30, amountMicros: 45_000_000, currency: 'EUR' } });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).delegations.consume('d', { uses: 1, amountMicros: 1_500_000, currency: 'EUR', usageId: `u${i}` }, now)),
    );
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(30);
    expect(outcomes.filter((o) => o.status === 'exceeded')).toHaveLength(20);
    expect((await b.delegations.find('d'))?.used).toEqual({ uses: 30, amountMicros: 45_000_000 });
    // Each ok saw a distinct running total: no two reports counted on the same state.
    const totals = outcomes.flatMap((o) => (o.status === 'ok' ? [o.record.used.uses] : [])).sort((x, y) => x - y);
    expect(totals).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a report retried on the other node at the same time counts once', async () => {
    const [a, b] = await nodes();
    await a.delegations.create({ did: 'd', sub: 'p', clientId: 'bot', origin: 'passport', createdAt: now, expiresAt: now + 600, budget: { uses: 100 } });
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => [a, b].map((node) => node.delegations.consume('d', { uses: 1, amountMicros: 0, usageId: `u${i}` }, now))).flat());
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(20);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(20);
    expect((await a.delegations.find('d'))?.used.uses).toBe(20);
  });

  it('an approval opened at node A, decided at node B (two approvers at once), collected at node A exactly once', async () => {
    const [a, b] = await nodes();
    await a.approvals.create({ id: 'r', pollHash: 'poll-r', kind: 'ciba', clientId: 'bot', sub: 'p-ada', request: { scopes: ['openid'] }, approvers: { kind: 'dual', group: 'finance', exclude: [] }, intervalSeconds: 5, createdAt: now, expiresAt: now + 300 });
    // Two polls at the same moment on both nodes: one is on time, the other too early.
    const polls = await Promise.all([a.approvals.poll('poll-r', 'bot', now + 1), b.approvals.poll('poll-r', 'bot', now + 1)]);
    expect(polls.map((p) => p.status).sort()).toEqual(['ok', 'slow_down']);
    expect((await a.approvals.find('r'))?.intervalSeconds).toBe(10);
    // Both approvers at once, on different nodes: exactly one decision settles the request.
    const decided = await Promise.all([
      b.approvals.decide('r', { approverSub: 'p-carol', decision: 'approve', decidedAt: now + 20 }, settle, now + 20),
      a.approvals.decide('r', { approverSub: 'p-dave', decision: 'approve', decidedAt: now + 20 }, settle, now + 20),
    ]);
    expect(decided.map((d) => (d.status === 'recorded' ? d.record.status : d.status)).sort()).toEqual(['approved', 'pending']);
    expect(await b.approvals.decide('r', { approverSub: 'p-erin', decision: 'deny', decidedAt: now + 21 }, settle, now + 21)).toEqual({ status: 'closed' });
    const polled = await a.approvals.poll('poll-r', 'bot', now + 40);
    expect(polled).toMatchObject({ status: 'ok', record: { status: 'approved', decisions: [{ decision: 'approve' }, { decision: 'approve' }] } });
    // Collected: node A's retries and a stray one on B, at once: one issuance.
    const issued = await Promise.all(Array.from({ length: 10 }, (_, i) => (i === 9 ? b : a).approvals.markIssued('r', now + 41)));
    expect(issued.filter(Boolean)).toHaveLength(1);
    expect((await b.approvals.find('r'))?.status).toBe('issued');
  });

  it('a device request claimed by user code on both nodes at once belongs to one person', async () => {
    const [a, b] = await nodes();
    await a.approvals.create({ id: 'dev', pollHash: 'poll-dev', userCodeHash: 'uc', kind: 'device', clientId: 'tv', request: {}, approvers: { kind: 'subject' }, intervalSeconds: 5, createdAt: now, expiresAt: now + 300 });
    const found = await b.approvals.findByUserCode('uc', now);
    expect(found?.id).toBe('dev');
    const claims = await Promise.all(['p-bob', 'p-eve', 'p-mal', 'p-zed'].map((sub, i) => (i % 2 ? a : b).approvals.claim('dev', sub, now + 1, { claimedBy: sub })));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const owner = ['p-bob', 'p-eve', 'p-mal', 'p-zed'][claims.indexOf(true)];
    expect(await a.approvals.find('dev')).toMatchObject({ sub: owner, request: { claimedBy: owner } });
  });
});
