// Delegations and Passport lineage on every backend (SQLite, PostgreSQL): cascades go down and only
// down, late links to something already revoked are revoked at once, budgets never overspend.
import { expect, it } from 'vitest';
import { forEachBackend } from './backends.ts';

forEachBackend('delegations and lineage', (backend) => {

  const delegation = (did: string, budget?: { uses?: number; amountMicros?: number; currency?: string }) =>
    backend.store.delegations.create({ did, sub: 'p', clientId: 'bot', origin: 'passport', createdAt: 100, expiresAt: 1000, budget });
  const link = (jti: string, parentJti?: string, did?: string) => backend.store.lineage.record({ jti, parentJti, did, clientId: 'bot', sub: 'p', expiresAt: 900 }, 100);
  const revoked = (jti: string) => backend.store.revocations.isRevoked(jti);

  it('revoking descendants walks the tree down, not up and not sideways', async () => {
    await delegation('d1');
    // root → a → b → c, and root → sibling
    await link('a', 'root', 'd1');
    await link('b', 'a', 'd1');
    await link('c', 'b', 'd1');
    await link('sibling', 'root', 'd1');
    expect(await backend.store.lineage.revokeDescendants(['a'], 200)).toBe(2);
    expect([await revoked('a'), await revoked('b'), await revoked('c'), await revoked('sibling'), await revoked('root')]).toEqual([false, true, true, false, false]);
    // Twice is harmless.
    expect(await backend.store.lineage.revokeDescendants(['a'], 201)).toBe(0);
  });

  it('a Passport linked after its parent or its delegation was revoked is revoked at once', async () => {
    await delegation('d1');
    await backend.store.revocations.revoke('parent', 'bot', 900, 150);
    await link('late-child', 'parent', 'd1');
    expect(await revoked('late-child')).toBe(true);
    await delegation('d2');
    expect(await backend.store.delegations.revoke('d2', 'operator', 160)).toBe(true);
    await link('late-in-d2', undefined, 'd2');
    expect(await revoked('late-in-d2')).toBe(true);
    // An unknown delegation counts as revoked.
    await link('orphan', undefined, 'nope');
    expect(await revoked('orphan')).toBe(true);
  });

  it('a delegation started with its first link is written with it, or not at all', async () => {
    const started = { did: 'd-new', sub: 'p', clientId: 'bot', origin: 'passport' as const, rootJti: 'root', createdAt: 100, expiresAt: 1000, budget: { uses: 2 } };
    await backend.store.lineage.record({ jti: 'first', parentJti: 'root', did: 'd-new', clientId: 'bot', sub: 'p', expiresAt: 900 }, 100, started);
    expect(await backend.store.delegations.find('d-new')).toMatchObject({ did: 'd-new', rootJti: 'root', budget: { uses: 2 }, used: { uses: 0 } });
    expect(await revoked('first')).toBe(false);
    // The link cannot be written (its jti is taken): the delegation it would start is not created either.
    await expect(backend.store.lineage.record({ jti: 'first', parentJti: 'root', did: 'd-other', clientId: 'bot', sub: 'p', expiresAt: 900 }, 100, { ...started, did: 'd-other' })).rejects.toThrow();
    expect(await backend.store.delegations.find('d-other')).toBeUndefined();
    // And the first link still stands, under its own delegation.
    expect(await backend.store.lineage.delegationsUnder({ jtis: ['root'] })).toMatchObject([{ did: 'd-new' }]);
  });

  it('revoking a delegation revokes every Passport carrying it, once', async () => {
    await delegation('d1');
    await link('x', 'root', 'd1');
    await link('y', 'x', 'd1');
    expect(await backend.store.delegations.revoke('d1', 'subject', 200)).toBe(true);
    expect(await backend.store.delegations.revoke('d1', 'subject', 201)).toBe(false);
    expect([await revoked('x'), await revoked('y')]).toEqual([true, true]);
    expect(await backend.store.delegations.find('d1')).toMatchObject({ revokedAt: 200, revokedBy: 'subject' });
  });

  it('consumes all or nothing, never past the budget, never on a revoked delegation', async () => {
    await delegation('d1', { uses: 3, amountMicros: 10_000_000, currency: 'EUR' });
    expect(await backend.store.delegations.consume('d1', { uses: 2, amountMicros: 4_000_000, currency: 'EUR' }, 200)).toMatchObject({ status: 'ok', record: { used: { uses: 2, amountMicros: 4_000_000 } } });
    expect(await backend.store.delegations.consume('d1', { uses: 1, amountMicros: 7_000_000, currency: 'EUR' }, 200)).toMatchObject({ status: 'exceeded' });
    expect(await backend.store.delegations.consume('d1', { uses: 1, amountMicros: 1, currency: 'USD' }, 200)).toEqual({ status: 'currency_mismatch' });
    expect(await backend.store.delegations.consume('d1', { uses: 1, amountMicros: 6_000_000, currency: 'EUR' }, 200)).toMatchObject({ status: 'ok', record: { used: { uses: 3, amountMicros: 10_000_000 } } });
    expect(await backend.store.delegations.consume('d1', { uses: 1, amountMicros: 0 }, 200)).toMatchObject({ status: 'exceeded' });
    expect(await backend.store.delegations.consume('nope', { uses: 1, amountMicros: 0 }, 200)).toEqual({ status: 'unknown' });
    expect(await backend.store.delegations.consume('d1', { uses: 0, amountMicros: 0 }, 1000)).toEqual({ status: 'unknown' });
    await delegation('d2', { uses: 5 });
    await backend.store.delegations.revoke('d2', 'operator', 300);
    expect(await backend.store.delegations.consume('d2', { uses: 1, amountMicros: 0 }, 301)).toEqual({ status: 'revoked' });
  });

  it('lists live delegations by person or by agent, and purges expired ones with their links', async () => {
    await delegation('d1');
    await backend.store.delegations.create({ did: 'd2', sub: 'q', clientId: 'other', origin: 'id_token', createdAt: 200, expiresAt: 500 });
    await link('x', undefined, 'd1');
    expect((await backend.store.delegations.list({ sub: 'p' }, 300)).map((d) => d.did)).toEqual(['d1']);
    expect((await backend.store.delegations.list({ clientIds: ['other', 'bot'] }, 300)).map((d) => d.did)).toEqual(['d2', 'd1']);
    expect((await backend.store.delegations.list({}, 600)).map((d) => d.did)).toEqual(['d1']);
    expect(await backend.store.delegations.purgeExpired(950)).toBe(2); // d2 and the link x (exp 900)
    expect(await backend.store.delegations.find('d2')).toBeUndefined();
  });
});
