// The store's single-use rules under concurrent writes, on every backend: concurrent redemptions of
// one code or one refresh token, or concurrent replays of one jti, have exactly one winner, and a
// write that fails fails alone. On SQLite the writes of one turn share a group-committed transaction
// (each in its own savepoint); on PostgreSQL they run side by side on the pool.
import { expect, it } from 'vitest';
import { forEachBackend } from './backends.ts';

forEachBackend('concurrent writes', (backend) => {
  const now = 1_800_000_000;

  it('20 concurrent redemptions of one code: exactly one first, 19 reuses', async () => {
    await backend.store.authorizations.saveCode({ codeHash: 'h1', clientId: 'c', familyId: 'f', grant: { sub: 'p' }, expiresAt: now + 60 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => backend.store.authorizations.redeemCode('h1', now)));
    expect(outcomes.filter((o) => o.status === 'first')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'reused')).toHaveLength(19);
  });

  // Group commit keeps a turn's writes in order; a pool of connections does not promise that.
  it.runIf(backend.kind === 'sqlite')('a code saved and redeemed in the same turn is found', async () => {
    const [, redeemed] = await Promise.all([
      backend.store.authorizations.saveCode({ codeHash: 'h2', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      backend.store.authorizations.redeemCode('h2', now),
    ]);
    expect(redeemed.status).toBe('first');
  });

  it('a redeemed code is reused after, with its record; an expired or unknown one is unknown', async () => {
    await backend.store.authorizations.saveCode({ codeHash: 'h2', clientId: 'c', familyId: 'f', grant: { sub: 'p' }, expiresAt: now + 60 });
    expect(await backend.store.authorizations.redeemCode('h2', now)).toMatchObject({ status: 'first', record: { codeHash: 'h2', familyId: 'f', grant: { sub: 'p' }, expiresAt: now + 60 } });
    expect(await backend.store.authorizations.redeemCode('h2', now + 1)).toMatchObject({ status: 'reused', record: { codeHash: 'h2', grant: { sub: 'p' } } });
    expect(await backend.store.authorizations.findCode('h2', now + 1)).toMatchObject({ clientId: 'c' });
    await backend.store.authorizations.saveCode({ codeHash: 'h3', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now });
    expect((await backend.store.authorizations.redeemCode('h3', now)).status).toBe('unknown');
    expect((await backend.store.authorizations.redeemCode('nope', now)).status).toBe('unknown');
    expect(await backend.store.authorizations.redeemCode('h2', now + 60)).toEqual({ status: 'unknown' });
  });

  it('concurrent rotations of one refresh token: one winner', async () => {
    await backend.store.families.createFamily({ id: 'f', clientId: 'c', sub: 'p', createdAt: now, expiresAt: now + 3600 });
    await backend.store.families.saveRefresh({ tokenHash: 'r1', familyId: 'f', clientId: 'c', grant: {}, createdAt: now, expiresAt: now + 3600 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => backend.store.families.rotateRefresh('r1', now)));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['first', ...Array(9).fill('reused')].sort());
  });

  it('one jti used 30 times at once is accepted once', async () => {
    const uses = await Promise.all(Array.from({ length: 30 }, () => backend.store.replay.useOnce('dpop', 'jti-1', now + 60, now)));
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  it('a write that fails (a duplicate code) fails alone; the writes beside it are stored', async () => {
    await backend.store.authorizations.saveCode({ codeHash: 'dup', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 });
    const results = await Promise.allSettled([
      backend.store.authorizations.saveCode({ codeHash: 'a', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      backend.store.authorizations.saveCode({ codeHash: 'dup', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      backend.store.authorizations.saveCode({ codeHash: 'b', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await backend.store.authorizations.findCode('a', now)).toBeDefined();
    expect(await backend.store.authorizations.findCode('b', now)).toBeDefined();
  });
});
