// Personal access tokens and receipts by delegation on every backend (SQLite, PostgreSQL): the cap
// per person holds when creations race from two nodes, revocation is the owner's (or anyone's for an
// operator) and happens once, last-used is written at most once per interval, and the receipts of
// one delegation come back newest first, bounded.
import { expect, it } from 'vitest';
import type { PatRecord } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

const pat = (id: string, sub = 'p1', expiresAt = 10_000): Omit<PatRecord, 'lastUsedAt' | 'revokedAt'> => ({
  id,
  tokenHash: `hash-${id}`,
  sub,
  name: `token ${id}`,
  resource: 'https://api.example',
  scopes: ['read', 'write'],
  createdAt: 100,
  expiresAt,
});

forEachBackend('personal access tokens', (backend) => {
  it('stores, finds by hash, lists the live ones newest first; revoke is the owner\'s and happens once', async () => {
    const { pats } = backend.store;
    expect(await pats.create(pat('a'), 5, 100)).toBe(true);
    expect(await pats.create({ ...pat('b'), createdAt: 200 }, 5, 200)).toBe(true);
    expect(await pats.create(pat('old', 'p1', 150), 5, 100)).toBe(true);
    expect(await pats.findByHash('hash-a')).toEqual({ ...pat('a'), lastUsedAt: undefined, revokedAt: undefined });
    expect(await pats.findByHash('nope')).toBeUndefined();
    expect((await pats.list('p1', 300)).map((r) => r.id)).toEqual(['b', 'a']);
    expect(await pats.revoke('a', 'p2', 300)).toBeUndefined();
    expect(await pats.revoke('a', 'p1', 300)).toMatchObject({ id: 'a', revokedAt: 300 });
    expect(await pats.revoke('a', 'p1', 301)).toBeUndefined();
    expect(await pats.revoke('b', undefined, 302)).toMatchObject({ id: 'b', sub: 'p1', revokedAt: 302 });
    expect((await pats.list('p1', 300)).map((r) => [r.id, r.revokedAt])).toEqual([['b', 302], ['a', 300]]);
    expect(await pats.purgeExpired(9_999)).toBe(1);
    expect(await pats.findByHash('hash-old')).toBeUndefined();
  });

  it('last used is written at most once per interval', async () => {
    const { pats } = backend.store;
    await pats.create(pat('a'), 5, 100);
    await pats.touch('a', 1000, 60);
    await pats.touch('a', 1030, 60);
    expect((await pats.findByHash('hash-a'))?.lastUsedAt).toBe(1000);
    await pats.touch('a', 1060, 60);
    expect((await pats.findByHash('hash-a'))?.lastUsedAt).toBe(1060);
  });

  it('the cap per person counts live tokens only, and holds when creations race from two nodes', async () => {
    const other = await backend.open();
    const stores = [backend.store, other];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 2]!.pats.create(pat(`r${i}`), 5, 100)));
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(await backend.store.pats.create(pat('x', 'p2'), 5, 100)).toBe(true);
    await backend.store.pats.revoke('r0', 'p1', 100);
    await backend.store.pats.revoke('r1', 'p1', 100);
    const live = (await backend.store.pats.list('p1', 100)).filter((r) => r.revokedAt === undefined).map((r) => r.id);
    expect(await backend.store.pats.create(pat('y'), 5, 100)).toBe(live.length < 5);
  });
});

forEachBackend('receipts by delegation', (backend) => {
  it('lists the receipts whose details name the did, newest first, at most the limit', async () => {
    const { audit } = backend.store;
    const append = (i: number, did?: string) => audit.append({ id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, atMs: i, event: 'passport.exchanged', details: did ? { did, n: i } : { n: i } });
    for (let i = 1; i <= 8; i++) await append(i, i % 2 ? 'd-1' : 'd-2');
    await append(9);
    expect((await audit.listByDid('d-1', 10)).map((r) => r.details.n)).toEqual([7, 5, 3, 1]);
    expect((await audit.listByDid('d-2', 2)).map((r) => r.details.n)).toEqual([8, 6]);
    expect(await audit.listByDid('d-3', 10)).toEqual([]);
  });
});
