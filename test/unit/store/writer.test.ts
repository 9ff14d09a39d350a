// The group-committing writer under the store's single-use rules: writes made in one turn share a
// transaction yet keep their own outcome, and concurrent redemptions of one code or one refresh
// token, or concurrent replays of one jti, have exactly one winner.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

describe('group-committed writes (SQLite)', () => {
  let dir: string;
  let store: Store;
  const now = 1_800_000_000;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'consulate-writer-'));
    store = openSqliteStore(join(dir, 'consulate.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('20 concurrent redemptions of one code: exactly one first, 19 reuses', async () => {
    await store.authorizations.saveCode({ codeHash: 'h1', clientId: 'c', familyId: 'f', grant: { sub: 'p' }, expiresAt: now + 60 });
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.authorizations.redeemCode('h1', now)));
    expect(outcomes.filter((o) => o.status === 'first')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'reused')).toHaveLength(19);
  });

  it('a code saved and redeemed in the same turn is found; an expired one is unknown', async () => {
    const [, redeemed] = await Promise.all([
      store.authorizations.saveCode({ codeHash: 'h2', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      store.authorizations.redeemCode('h2', now),
    ]);
    expect(redeemed.status).toBe('first');
    await store.authorizations.saveCode({ codeHash: 'h3', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now });
    expect((await store.authorizations.redeemCode('h3', now)).status).toBe('unknown');
  });

  it('concurrent rotations of one refresh token: one winner', async () => {
    await store.families.createFamily({ id: 'f', clientId: 'c', sub: 'p', createdAt: now, expiresAt: now + 3600 });
    await store.families.saveRefresh({ tokenHash: 'r1', familyId: 'f', clientId: 'c', grant: {}, createdAt: now, expiresAt: now + 3600 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.families.rotateRefresh('r1', now)));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['first', ...Array(9).fill('reused')].sort());
  });

  it('one jti used 30 times at once is accepted once', async () => {
    const uses = await Promise.all(Array.from({ length: 30 }, () => store.replay.useOnce('dpop', 'jti-1', now + 60, now)));
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  it('a write that fails (a duplicate code) fails alone; the writes beside it are stored', async () => {
    await store.authorizations.saveCode({ codeHash: 'dup', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 });
    const results = await Promise.allSettled([
      store.authorizations.saveCode({ codeHash: 'a', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      store.authorizations.saveCode({ codeHash: 'dup', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
      store.authorizations.saveCode({ codeHash: 'b', clientId: 'c', familyId: 'f', grant: {}, expiresAt: now + 60 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.authorizations.findCode('a', now)).toBeDefined();
    expect(await store.authorizations.findCode('b', now)).toBeDefined();
  });
});
