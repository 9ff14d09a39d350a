// A person's browser sessions as the admin API sees them, on every backend: listed newest first
// without expired ones or other people's, and ended by (person, sid) exactly once.
import { expect, it } from 'vitest';
import { forEachBackend } from './backends.ts';

forEachBackend('sessions of a person', (backend) => {
  const session = (idHash: string, sid: string, sub: string, createdAt: number, expiresAt = 5_000) => ({ idHash, sid, sub, upstreamId: 'okta', claims: { email: `${sub}@x.example` }, authTime: createdAt, createdAt, expiresAt });

  it('lists a person\'s live sessions newest first, and ends one by its sid once, on any node', async () => {
    const { logins } = backend.store;
    await logins.saveSession(session('h1', 'sid-1', 'ada', 1_000));
    await logins.saveSession(session('h2', 'sid-2', 'ada', 2_000));
    await logins.saveSession(session('h3', 'sid-3', 'ada', 500, 1_500));
    await logins.saveSession(session('h4', 'sid-4', 'bob', 3_000));
    expect((await logins.sessionsOf('ada', 1_600)).map((s) => s.sid)).toEqual(['sid-2', 'sid-1']);
    expect(await logins.sessionsOf('nobody', 1_600)).toEqual([]);

    const other = await backend.open();
    expect(await other.logins.endSessionOf('bob', 'sid-1')).toBeUndefined();
    expect(await other.logins.endSessionOf('ada', 'sid-1')).toMatchObject({ sid: 'sid-1', sub: 'ada', claims: { email: 'ada@x.example' } });
    expect(await logins.endSessionOf('ada', 'sid-1')).toBeUndefined();
    expect(await logins.findSession('h1', 1_600)).toBeUndefined();
    expect((await logins.sessionsOf('ada', 1_600)).map((s) => s.sid)).toEqual(['sid-2']);
  });
});
