// The counts behind the approval metrics, on every backend: per kind, requests open now, and those
// that expired undecided within a window (each expiry falls in exactly one window).
import { expect, it } from 'vitest';
import { settle } from '../../../src/consent/approvers.ts';
import type { ApprovalKind } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('approval counts for metrics', (backend) => {
  const open = (id: string, kind: ApprovalKind, expiresAt: number) =>
    backend.store.approvals.create({ id, pollHash: `poll-${id}`, kind, clientId: 'bot', sub: 'p-ada', request: {}, approvers: { kind: 'subject' }, intervalSeconds: 5, createdAt: 100, expiresAt });
  const counts = async (now: number, expiredAfter: number) =>
    Object.fromEntries((await backend.store.approvals.countByKind(now, expiredAfter)).map(({ kind, pending, expired }) => [kind, { pending, expired }]));

  it('counts open requests per kind, and expiries once per window; decided requests are neither', async () => {
    expect(await backend.store.approvals.countByKind(100, 100)).toEqual([]);
    await open('c1', 'ciba', 200);
    await open('c2', 'ciba', 300);
    await open('d1', 'device', 250);
    await open('e1', 'exchange', 200);
    await backend.store.approvals.decide('e1', { approverSub: 'p-ada', decision: 'deny', decidedAt: 150 }, settle, 150);

    expect(await counts(150, 100)).toEqual({ ciba: { pending: 2, expired: 0 }, device: { pending: 1, expired: 0 } });
    // At 260: c1 (200) and d1 (250) expired undecided since 150; the denied e1 is not an expiry.
    expect(await counts(260, 150)).toEqual({ ciba: { pending: 1, expired: 1 }, device: { pending: 0, expired: 1 } });
    // The next window does not count them again.
    expect(await counts(280, 260)).toEqual({ ciba: { pending: 1, expired: 0 } });
    // An expiry exactly at the window's end is in that window, not the next.
    expect(await counts(300, 280)).toEqual({ ciba: { pending: 0, expired: 1 } });
    expect(await counts(400, 300)).toEqual({});
  });
});
