// Pushed authorization requests (RFC 9126) on every backend: bound to the first browser that
// presents them, presentable again by it until completed or expired; refused to another browser;
// used up by another client's presentation; kept past expiry for as long as an authorization it
// started may still be answered, so that a late answer still finds it used up.
import { expect, it } from 'vitest';
import { forEachBackend } from './backends.ts';

forEachBackend('pushed requests', (backend) => {
  const now = 1_800_000_000;
  const push = (idHash: string, expiresAt = now + 60) => backend.store.authorizations.savePushed({ idHash, clientId: 'app', params: { scope: 'openid' }, expiresAt });
  const present = (idHash: string, browser: string, at = now, clientId = 'app') => backend.store.authorizations.presentPushed(idHash, clientId, browser, at).then((p) => p.status);

  it('the first browser binds it; it may present it again, another may not; completed once, then used up', async () => {
    await push('u');
    expect(await present('u', 'b1')).toBe('ok');
    expect(await present('u', 'b1', now + 30)).toBe('ok');
    expect(await present('u', 'b2')).toBe('other_browser');
    expect(await present('u', 'b1')).toBe('ok');
    expect(await backend.store.authorizations.completePushed('u', now + 31)).toBe(true);
    expect(await backend.store.authorizations.completePushed('u', now + 32)).toBe(false);
    expect(await present('u', 'b1')).toBe('completed');
  });

  it('expired is told apart from unknown; another client\'s presentation uses it up for everyone', async () => {
    await push('e');
    expect(await present('e', 'b1', now + 60)).toBe('expired');
    expect(await present('nope', 'b1')).toBe('unknown');
    await push('x');
    expect(await present('x', 'b1', now, 'other-app')).toBe('other_client');
    expect(await present('x', 'b1')).toBe('completed');
  });

  it('is purged only an hour past expiry: until then a late answer still finds it used up', async () => {
    await push('late');
    expect(await present('late', 'b1')).toBe('ok');
    await backend.store.authorizations.purgeExpired(now + 61);
    expect(await backend.store.authorizations.completePushed('late', now + 1000)).toBe(true);
    expect(await backend.store.authorizations.completePushed('late', now + 1001)).toBe(false);
    await backend.store.authorizations.purgeExpired(now + 60 + 3601);
    expect(await present('late', 'b1', now + 60 + 3601)).toBe('unknown');
  });
});
