// The SSF store on every backend: streams, the feed's compare-and-set, the outbox with its push
// claims (two nodes never hold the same SET; a lease that ran out lets another node take it), poll
// reads, retention, and the lineage query that finds the delegations a revocation ended.
import { expect, it } from 'vitest';
import type { SsfEventRecord, SsfStreamRecord, Store } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

const now = 1_800_000_000;
const nowMs = now * 1000;

const stream = (id: string, overrides: Partial<SsfStreamRecord> = {}): SsfStreamRecord => ({
  id,
  receiver: 'receiver-a',
  audience: 'receiver-a',
  delivery: { method: 'push', endpointUrl: 'https://receiver.example/events', authorizationHeader: 'Bearer s3cret' },
  eventsRequested: ['urn:example:a'],
  eventsDelivered: ['urn:example:a'],
  description: 'a stream',
  status: 'enabled',
  fromSeq: 0,
  createdAt: now,
  updatedAt: now,
  ...overrides,
});

const event = (jti: string, streamId: string, createdAtMs = nowMs): SsfEventRecord => ({ jti, streamId, claims: { jti, events: { 'urn:example:a': {} } }, createdAtMs, attempts: 0, nextAttemptAtMs: createdAtMs });

forEachBackend('SSF streams and outbox', (backend) => {
  const nodes = async (): Promise<[Store, Store]> => [backend.store, await backend.open()];

  it('keeps streams as written; a receiver lists only its own; deleting takes the waiting events along', async () => {
    const { ssf } = backend.store;
    await ssf.createStream(stream('s1'));
    await ssf.createStream(stream('s2', { receiver: 'receiver-b', audience: 'receiver-b', delivery: { method: 'poll' }, eventsRequested: undefined, description: undefined, createdAt: now + 1 }));
    expect(await ssf.findStream('s1')).toEqual(stream('s1'));
    expect((await ssf.listStreams('receiver-b')).map((s) => s.id)).toEqual(['s2']);
    expect((await ssf.listStreams()).map((s) => s.id)).toEqual(['s1', 's2']);
    expect(await ssf.findStream('s2')).toEqual(stream('s2', { receiver: 'receiver-b', audience: 'receiver-b', delivery: { method: 'poll' }, eventsRequested: undefined, description: undefined, createdAt: now + 1 }));
    expect(await ssf.saveStream({ ...stream('s1'), status: 'paused', statusReason: 'maintenance' })).toBe(true);
    expect((await ssf.findStream('s1'))?.statusReason).toBe('maintenance');
    expect(await ssf.saveStream(stream('gone'))).toBe(false);
    await ssf.enqueue([event('e1', 's1'), event('e2', 's1')]);
    expect(await ssf.deleteStream('s1')).toBe(true);
    expect(await ssf.deleteStream('s1')).toBe(false);
    expect(await ssf.pending('s1', 10)).toEqual([]);
  });

  it('a disabled stream holds nothing: its waiting events are dropped', async () => {
    const { ssf } = backend.store;
    await ssf.createStream(stream('s1'));
    await ssf.enqueue([event('e1', 's1')]);
    await ssf.saveStream({ ...stream('s1'), status: 'disabled' });
    expect(await ssf.pending('s1', 10)).toEqual([]);
  });

  it('the feed moves only from the position a node read: of two nodes feeding the same receipts, one adds its events', async () => {
    const [a, b] = await nodes();
    await a.ssf.createStream(stream('s1'));
    expect(await a.ssf.feedPosition()).toBeUndefined();
    const starts = await Promise.all([a.ssf.advanceFeed(undefined, 5, []), b.ssf.advanceFeed(undefined, 5, [])]);
    expect(starts.filter(Boolean)).toHaveLength(1);
    const moves = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).ssf.advanceFeed(5, 9, [event(`e${i}`, 's1')])),
    );
    expect(moves.filter(Boolean)).toHaveLength(1);
    expect(await b.ssf.feedPosition()).toBe(9);
    expect((await a.ssf.pending('s1', 100)).map((e) => e.jti)).toEqual([`e${moves.indexOf(true)}`]);
    // An event for a stream deleted meanwhile is skipped, the rest added.
    expect(await a.ssf.advanceFeed(9, 10, [event('x1', 'deleted'), event('x2', 's1', nowMs + 1)])).toBe(true);
    expect((await a.ssf.pending('s1', 100)).map((e) => e.jti)).toEqual([`e${moves.indexOf(true)}`, 'x2']);
  });

  it('two nodes claiming at once never get the same SET; every SET is claimed once, and once more only after its lease', async () => {
    const [a, b] = await nodes();
    await a.ssf.createStream(stream('s1'));
    const events = Array.from({ length: 60 }, (_, i) => event(`e${String(i).padStart(2, '0')}`, 's1', nowMs + i));
    await a.ssf.enqueue(events);
    expect(await a.ssf.streamsDue(nowMs + 100)).toEqual(['s1']);
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).ssf.claimDue('s1', nowMs + 100, 30_000, 7)));
    const claimed = claims.flat().map((e) => e.jti);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(events.map((e) => e.jti).sort());
    for (const batch of claims) expect(batch.map((e) => e.jti)).toEqual([...batch.map((e) => e.jti)].sort());
    expect(claims.flat().every((e) => e.attempts === 1)).toBe(true);
    // All leased: nothing due, on either node.
    expect(await b.ssf.claimDue('s1', nowMs + 200, 30_000, 100)).toEqual([]);
    expect(await a.ssf.streamsDue(nowMs + 200)).toEqual([]);
    // The lease ran out (a node died mid-push): the other node takes them, a second attempt.
    const retaken = await b.ssf.claimDue('s1', nowMs + 100 + 30_000, 30_000, 100);
    expect(retaken).toHaveLength(60);
    expect(retaken.every((e) => e.attempts === 2)).toBe(true);
  });

  it('a failed push waits for its next attempt; delivered ones are removed; paused and poll streams are not pushed', async () => {
    const { ssf } = backend.store;
    await ssf.createStream(stream('s1'));
    await ssf.createStream(stream('paused', { status: 'paused' }));
    await ssf.createStream(stream('polled', { delivery: { method: 'poll' } }));
    await ssf.enqueue([event('e1', 's1'), event('e2', 's1', nowMs + 1), event('p1', 'paused'), event('q1', 'polled')]);
    expect((await ssf.streamsDue(nowMs)).sort()).toEqual(['s1']);
    const [first, second] = await ssf.claimDue('s1', nowMs + 1, 10_000, 10);
    expect(await ssf.remove('s1', [first!.jti])).toBe(1);
    expect(await ssf.remove('other', [second!.jti])).toBe(0);
    await ssf.retryLater([second!.jti], nowMs + 5000);
    expect(await ssf.claimDue('s1', nowMs + 4999, 10_000, 10)).toEqual([]);
    expect((await ssf.claimDue('s1', nowMs + 5000, 10_000, 10)).map((e) => [e.jti, e.attempts])).toEqual([['e2', 2]]);
    expect((await ssf.pending('polled', 10)).map((e) => e.jti)).toEqual(['q1']);
  });

  it('events older than the retention are purged', async () => {
    const { ssf } = backend.store;
    await ssf.createStream(stream('s1'));
    await ssf.enqueue([event('old', 's1', nowMs - 10_000), event('new', 's1', nowMs)]);
    expect(await ssf.purgeBefore(nowMs - 1)).toBe(1);
    expect((await ssf.pending('s1', 10)).map((e) => e.jti)).toEqual(['new']);
  });
});

forEachBackend('delegations a revocation ended (lineage)', (backend) => {
  const delegation = (did: string, clientId: string) => ({ did, sub: 'ada', clientId, origin: 'passport', rootJti: 'p', createdAt: now, expiresAt: now + 600, budget: undefined });
  const link = (jti: string, parentJti: string | undefined, did?: string) => ({ jti, parentJti, did, clientId: 'agent', sub: 'ada', expiresAt: now + 600 });

  it('finds each delegation whose first Passport is under the roots, once, and none that only continues under them', async () => {
    const { delegations, lineage, families } = backend.store;
    // p (a person's Passport, of family f) → q1 (d1) → q2 (d1); p → r1 (d2); x (elsewhere) → y1 (d3)
    await families.createFamily({ id: 'f', clientId: 'web-app', sub: 'ada', createdAt: now, expiresAt: now + 3600 });
    await families.addPassport('f', 'p', now + 600, now);
    for (const [did, client] of [['d1', 'helper'], ['d2', 'runner'], ['d3', 'other']] as const) await delegations.create(delegation(did, client));
    await lineage.record(link('q1', 'p', 'd1'), now);
    await lineage.record(link('q2', 'q1', 'd1'), now);
    await lineage.record(link('r1', 'p', 'd2'), now);
    await lineage.record(link('y1', 'x', 'd3'), now);
    expect((await lineage.delegationsUnder({ jtis: ['p'] })).map((d) => [d.did, d.clientId])).toEqual([['d1', 'helper'], ['d2', 'runner']]);
    expect((await lineage.delegationsUnder({ familyIds: ['f'] })).map((d) => d.did)).toEqual(['d1', 'd2']);
    expect((await lineage.delegationsUnder({ jtis: ['q1'] })).map((d) => d.did)).toEqual(['d1']);
    // q2 continues d1: revoking it ends a part of d1, not d1.
    expect(await lineage.delegationsUnder({ jtis: ['q2'] })).toEqual([]);
    expect(await lineage.delegationsUnder({ jtis: [], familyIds: ['none'] })).toEqual([]);
  });
});
