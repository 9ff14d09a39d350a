// Linking upstream accounts to people: by account, by verified e-mail only when allowed and
// unambiguous, otherwise a new person. Real SQLite (in memory).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoginLink, Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

describe('subjects', () => {
  let store: Store;
  let n = 0;
  beforeEach(() => {
    store = openSqliteStore(":memory:");
    n = 0;
  });
  afterEach(async () => store.close());
  const link = (overrides: Partial<LoginLink>) =>
    store.subjects.linkLogin({ origIss: 'https://a.example', origSub: 'alice', upstreamId: 'a', linkByEmail: false, newSub: `person-${++n}`, now: 1000 + n, ...overrides });

  it('the same upstream account is the same person; first-seen and last-login are kept', async () => {
    const first = await link({});
    const again = await link({ now: 5000 });
    expect(first).toEqual({ sub: 'person-1', linkedBy: 'new_person' });
    expect(again).toEqual({ sub: 'person-1', linkedBy: 'account' });
    const [account] = await store.subjects.accountsOf('person-1');
    expect(account).toMatchObject({ firstSeenAt: 1001, lastLoginAt: 5000, upstreamId: 'a' });
  });

  it('a verified e-mail links a second upstream only when the operator allows it', async () => {
    await link({ verifiedEmail: 'alice@x.example' });
    expect(await link({ origIss: 'https://c.example', verifiedEmail: 'alice@x.example', linkByEmail: true })).toEqual({ sub: 'person-1', linkedBy: 'verified_email' });
    expect(await link({ origIss: 'https://b.example', verifiedEmail: 'alice@x.example', linkByEmail: false })).toMatchObject({ linkedBy: 'new_person' });
    expect((await store.subjects.accountsOf('person-1')).map((a) => a.origIss).sort()).toEqual(['https://a.example', 'https://c.example']);
  });

  it('an unverified e-mail never links, and a person created without a verified e-mail is never a link target', async () => {
    await link({}); // person-1, e-mail unknown/unverified
    expect(await link({ origIss: 'https://b.example', verifiedEmail: undefined, linkByEmail: true })).toMatchObject({ linkedBy: 'new_person' });
  });

  it('an ambiguous e-mail (two people) links to neither', async () => {
    await link({ origIss: 'https://a.example', verifiedEmail: 'dup@x.example' });
    await link({ origIss: 'https://b.example', verifiedEmail: 'dup@x.example' });
    expect(await link({ origIss: 'https://c.example', verifiedEmail: 'dup@x.example', linkByEmail: true })).toMatchObject({ linkedBy: 'new_person' });
  });

  it('a failed link leaves nothing behind', async () => {
    await link({ newSub: 'taken', origSub: 'x' });
    // A new account whose new person id collides: the subject insert fails, so no account row either.
    await expect(link({ origSub: 'y', newSub: 'taken' })).rejects.toThrow();
    expect((await store.subjects.accountsOf('taken')).map((a) => a.origSub)).toEqual(['x']);
  });
});
