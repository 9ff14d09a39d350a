// Linking upstream accounts to people: by account, by verified e-mail only when allowed and
// unambiguous, otherwise a new person. On every backend (test/unit/store/backends.ts); on
// PostgreSQL also two nodes linking the same account at once.
import { expect, it } from 'vitest';
import type { LoginLink, Store } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('subjects', (backend) => {
  let n = 0;
  const link = (overrides: Partial<LoginLink>, store: Store = backend.store) =>
    store.subjects.linkLogin({ origIss: 'https://a.example', origSub: 'alice', upstreamId: 'a', linkByEmail: false, newSub: `person-${++n}`, now: 1000 + n, ...overrides });

  it('the same upstream account is the same person; first-seen and last-login are kept', async () => {
    n = 0;
    const first = await link({});
    const again = await link({ now: 5000 });
    expect(first).toEqual({ sub: 'person-1', linkedBy: 'new_person' });
    expect(again).toEqual({ sub: 'person-1', linkedBy: 'account' });
    const [account] = await backend.store.subjects.accountsOf('person-1');
    expect(account).toMatchObject({ firstSeenAt: 1001, lastLoginAt: 5000, upstreamId: 'a' });
  });

  it('a verified e-mail links a second upstream only when the operator allows it', async () => {
    n = 0;
    await link({ verifiedEmail: 'alice@x.example' });
    expect(await link({ origIss: 'https://c.example', verifiedEmail: 'alice@x.example', linkByEmail: true })).toEqual({ sub: 'person-1', linkedBy: 'verified_email' });
    expect(await link({ origIss: 'https://b.example', verifiedEmail: 'alice@x.example', linkByEmail: false })).toMatchObject({ linkedBy: 'new_person' });
    expect((await backend.store.subjects.accountsOf('person-1')).map((a) => a.origIss).sort()).toEqual(['https://a.example', 'https://c.example']);
  });

  it('an unverified e-mail never links, and a person created without a verified e-mail is never a link target', async () => {
    n = 0;
    await link({}); // person-1, e-mail unknown/unverified
    expect(await link({ origIss: 'https://b.example', verifiedEmail: undefined, linkByEmail: true })).toMatchObject({ linkedBy: 'new_person' });
  });

  it('an ambiguous e-mail (two people) links to neither', async () => {
    n = 0;
    await link({ origIss: 'https://a.example', verifiedEmail: 'dup@x.example' });
    await link({ origIss: 'https://b.example', verifiedEmail: 'dup@x.example' });
    expect(await link({ origIss: 'https://c.example', verifiedEmail: 'dup@x.example', linkByEmail: true })).toMatchObject({ linkedBy: 'new_person' });
  });

  it('a failed link leaves nothing behind', async () => {
    n = 0;
    await link({ newSub: 'taken', origSub: 'x' });
    // A new account whose new person id collides: the subject insert fails, so no account row either.
    await expect(link({ origSub: 'y', newSub: 'taken' })).rejects.toThrow();
    expect((await backend.store.subjects.accountsOf('taken')).map((a) => a.origSub)).toEqual(['x']);
  });

  it('claims are kept per person; findByEmail counts only verified e-mails, and only one person', async () => {
    n = 0;
    const { sub } = await link({});
    expect(await backend.store.subjects.exists(sub)).toBe(true);
    expect(await backend.store.subjects.exists('nobody')).toBe(false);
    expect(await backend.store.subjects.claimsOf(sub)).toBeUndefined();
    await backend.store.subjects.saveClaims(sub, { email: 'Bob@X.example', email_verified: false });
    expect(await backend.store.subjects.findByEmail('bob@x.example')).toBeUndefined();
    await backend.store.subjects.saveClaims(sub, { email: 'Bob@X.example', email_verified: true });
    expect(await backend.store.subjects.claimsOf(sub)).toEqual({ email: 'Bob@X.example', email_verified: true });
    expect(await backend.store.subjects.findByEmail('bob@x.example')).toBe(sub);
    const other = await link({ origSub: 'bob-2', verifiedEmail: 'bob@x.example' });
    expect(other.linkedBy).toBe('new_person');
    expect(await backend.store.subjects.findByEmail('bob@x.example')).toBeUndefined();
  });

  it('two nodes linking the same new upstream account at once end with one person and one account', async () => {
    n = 0;
    const other = await backend.open();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => link({ origSub: 'racer', newSub: `racer-${i}`, now: 2000 + i }, i % 2 === 0 ? backend.store : other)));
    const subs = new Set(results.map((r) => r.sub));
    expect(subs.size).toBe(1);
    expect(results.filter((r) => r.linkedBy === 'new_person')).toHaveLength(1);
    const [sub] = [...subs];
    expect(await backend.store.subjects.accountsOf(sub as string)).toHaveLength(1);
    // The losers' would-be persons were rolled back with their attempt.
    const losers = results.map((_, i) => `racer-${i}`).filter((s) => s !== sub);
    for (const loser of losers) expect(await backend.store.subjects.exists(loser)).toBe(false);
  });
});
