// The small repositories keep the same promises on every backend (./backends.ts): keys, single-use
// ids, revocations, server secrets, pending logins and sessions, consents, dynamic clients.
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import type { DynamicClientRecord, KeyRecord } from '../../../src/store/ports.ts';
import { purgeChunkRows } from '../../../src/store/sqlite/purge.ts';
import { forEachBackend } from './backends.ts';

const key = (kid: string, alg: KeyRecord['alg'], createdAt: number, activatesAt: number): KeyRecord => ({
  kid,
  alg,
  publicJwk: { kty: 'EC', crv: 'P-256', x: kid, y: 'y' },
  privateJwk: { kty: 'EC', crv: 'P-256', x: kid, y: 'y', d: 'd' },
  createdAt,
  activatesAt,
});

const client = (clientId: string, source: DynamicClientRecord['source'] = 'registration'): DynamicClientRecord => ({
  clientId,
  source,
  client: { client_id: clientId, redirect_uris: ['https://app.example/cb'] },
  createdAt: 1_000,
  updatedAt: 1_000,
});

forEachBackend('repositories', (backend) => {
  it('keys: listed by activation then creation; a first key only when none of its alg signs yet', async () => {
    const { keys } = backend.store;
    expect(await keys.insert(key('b', 'ES256', 100, 200))).toBe(true);
    expect(await keys.insert(key('a', 'ES256', 100, 100))).toBe(true);
    expect(await keys.insert(key('r', 'RS256', 50, 300))).toBe(true);
    expect((await keys.list()).map((k) => k.kid)).toEqual(['a', 'b', 'r']);
    expect(await keys.insert(key('c', 'ES256', 150, 150), { onlyIfNoneActive: true })).toBe(false);
    expect(await keys.insert(key('e', 'EdDSA', 150, 150), { onlyIfNoneActive: true })).toBe(true);
    expect(await keys.insert(key('r2', 'RS256', 150, 150), { onlyIfNoneActive: true })).toBe(true);
    const [first] = await keys.list();
    expect(first).toEqual(key('a', 'ES256', 100, 100));
  });

  it('replay: an id is used once per scope until purged', async () => {
    const { replay } = backend.store;
    expect(await replay.useOnce('dpop', 'x', 2_000, 1_000)).toBe(true);
    expect(await replay.useOnce('dpop', 'x', 2_000, 1_000)).toBe(false);
    expect(await replay.useOnce('assertion', 'x', 1_500, 1_000)).toBe(true);
    expect(await replay.purgeExpired(1_600)).toBe(1);
    expect(await replay.useOnce('assertion', 'x', 3_000, 1_700)).toBe(true);
  });

  it('a purge of a backlog larger than a chunk removes every expired row and only those', async () => {
    const { replay, authorizations } = backend.store;
    const expired = 2 * purgeChunkRows + 7;
    await Promise.all(Array.from({ length: expired }, (_, i) => replay.useOnce('dpop', `old-${i}`, 1_000 + i, 900)));
    await Promise.all(Array.from({ length: expired }, (_, i) => authorizations.saveCode({ codeHash: `c-${i}`, clientId: 'c', familyId: 'f', grant: {}, expiresAt: 1_000 + i })));
    await replay.useOnce('dpop', 'live', 5_000, 900);
    await authorizations.saveCode({ codeHash: 'live', clientId: 'c', familyId: 'f', grant: {}, expiresAt: 5_000 });
    expect(await replay.purgeExpired(4_000)).toBe(expired);
    expect(await authorizations.purgeExpired(4_000)).toBe(expired);
    expect(await replay.useOnce('dpop', 'live', 5_000, 4_000)).toBe(false); // still remembered
    expect(await replay.useOnce('dpop', 'old-0', 5_000, 4_000)).toBe(true); // forgotten: usable again
    expect((await authorizations.redeemCode('live', 4_000)).status).toBe('first');
    expect((await authorizations.redeemCode('c-0', 4_000)).status).toBe('unknown');
  });

  // A chunk per turn of the group commit: a request's write made while a purge runs commits while
  // expired rows are still there, instead of waiting behind one DELETE of the whole backlog.
  it.runIf(backend.kind === 'sqlite')('a purge lets the writes of requests commit between its chunks', async () => {
    const { replay } = backend.store;
    const backlog = 3 * purgeChunkRows;
    await Promise.all(Array.from({ length: backlog }, (_, i) => replay.useOnce('dpop', `old-${i}`, 1_000, 900)));
    const reader = new Database(backend.url.slice('sqlite:'.length), { readonly: true });
    const expiredLeft = () => reader.prepare<[], number>('SELECT count(*) FROM used_ids WHERE expires_at < 4000').pluck().get();
    try {
      const purged = replay.purgeExpired(4_000);
      expect(await replay.useOnce('dpop', 'new', 5_000, 4_000)).toBe(true);
      expect(expiredLeft()).toBeGreaterThan(0);
      expect(await purged).toBe(backlog);
      expect(expiredLeft()).toBe(0);
    } finally {
      reader.close();
    }
  });

  it('revocations: revoked until purged; revoking twice is harmless', async () => {
    const { revocations } = backend.store;
    await revocations.revoke('j1', 'bot', 2_000, 1_000);
    await revocations.revoke('j1', 'bot', 2_000, 1_000);
    expect(await revocations.isRevoked('j1')).toBe(true);
    expect(await revocations.isRevoked('j2')).toBe(false);
    expect(await revocations.purgeExpired(2_001)).toBe(1);
    expect(await revocations.isRevoked('j1')).toBe(false);
  });

  it('secrets: the first value wins, also for another node', async () => {
    expect(await backend.store.secrets.getOrCreate('nonce', 'first', 1)).toBe('first');
    const other = await backend.open();
    expect(await other.secrets.getOrCreate('nonce', 'second', 2)).toBe('first');
  });

  it('logins: a pending login is taken once, not after it expired; sessions until they expire', async () => {
    const { logins } = backend.store;
    const pending = { stateHash: 's', browserHash: 'b', upstreamId: 'u', nonce: 'n', codeVerifier: 'v', returnTo: '/x', acrValues: 'mfa', maxAge: 60, expiresAt: 2_000 };
    await logins.savePending(pending);
    await logins.savePending({ ...pending, stateHash: 'old', expiresAt: 900 });
    expect(await logins.takePending('s', 1_000)).toEqual(pending);
    expect(await logins.takePending('s', 1_000)).toBeUndefined();
    expect(await logins.takePending('old', 1_000)).toBeUndefined();
    const session = { idHash: 'h', sid: 'sid', sub: 'p', upstreamId: 'u', claims: { email: 'a@x.example' }, authTime: 1_000, createdAt: 1_000, expiresAt: 5_000 };
    await logins.saveSession(session);
    expect(await logins.findSession('h', 4_999)).toEqual(session);
    expect(await logins.findSession('h', 5_000)).toBeUndefined();
    await logins.savePending({ ...pending, stateHash: 'later', expiresAt: 3_000 });
    expect(await logins.purgeExpired(6_000)).toBe(2);
    await logins.saveSession({ ...session, idHash: 'h2' });
    await logins.deleteSession('h2');
    expect(await logins.findSession('h2', 1_000)).toBeUndefined();
  });

  it('consents: saved, replaced, listed and revoked per person and client', async () => {
    const { consents } = backend.store;
    const consent = { sub: 'p', clientId: 'app', scopes: ['openid'], resources: ['https://api.example'], detailsTypes: [], grantedAt: 1 };
    await consents.save(consent);
    await consents.save({ ...consent, scopes: ['openid', 'email'], grantedAt: 2 });
    await consents.save({ ...consent, clientId: 'other' });
    expect(await consents.find('p', 'app')).toEqual({ ...consent, scopes: ['openid', 'email'], grantedAt: 2 });
    expect((await consents.list('p')).map((c) => c.clientId).sort()).toEqual(['app', 'other']);
    expect(await consents.revoke('p', 'app')).toBe(true);
    expect(await consents.revoke('p', 'app')).toBe(false);
    expect(await consents.find('p', 'app')).toBeUndefined();
  });

  it('dynamic clients: saved or replaced; registration stops at the cap per source, also across nodes', async () => {
    const { dynamicClients } = backend.store;
    await dynamicClients.save({ ...client('https://doc.example/c', 'document'), refreshAt: 5_000 });
    await dynamicClients.save({ ...client('https://doc.example/c', 'document'), refreshAt: 6_000, updatedAt: 2_000, createdAt: 9 });
    expect(await dynamicClients.find('https://doc.example/c')).toMatchObject({ source: 'document', refreshAt: 6_000, createdAt: 1_000, updatedAt: 2_000 });
    expect(await dynamicClients.find('nobody')).toBeUndefined();
    const other = await backend.open();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : backend.store).dynamicClients.register(client(`c${i}`), 4)));
    expect(results.filter(Boolean)).toHaveLength(4);
    expect(await dynamicClients.find('c0')).toMatchObject({ clientId: 'c0', source: 'registration', refreshAt: undefined, client: { client_id: 'c0' } });
  });
});
