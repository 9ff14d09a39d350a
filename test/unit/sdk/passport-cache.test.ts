// The agent SDK's Passport cache with a fixed clock: hits, the expiry skew, what separates keys,
// and that tokens never appear in keys.
import { describe, expect, it } from 'vitest';
import { createPassportCache, passportCacheKey } from '../../../src/sdk/passport-cache.ts';

const t0 = 1_700_000_000;
const tokens = (access_token: string, expires_in?: number) => ({ access_token, token_type: 'bearer', ...(expires_in === undefined ? {} : { expires_in }) });
const base = { kind: 'client_credentials' as const, resource: 'https://api.demo.example', scope: 'read-data' };

describe('passport cache', () => {
  it('hits until skewSeconds before expiry, then misses', () => {
    const cache = createPassportCache<ReturnType<typeof tokens>>({ skewSeconds: 30 });
    const key = passportCacheKey(base);
    expect(cache.get(key, t0)).toBeUndefined();
    expect(cache.put(key, tokens('p1', 300), t0)).toBe(true);
    expect(cache.get(key, t0)?.access_token).toBe('p1');
    expect(cache.get(key, t0 + 269)?.access_token).toBe('p1');
    expect(cache.get(key, t0 + 270)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('uses a 30 s skew by default and honours another', () => {
    const key = passportCacheKey(base);
    const standard = createPassportCache<ReturnType<typeof tokens>>();
    standard.put(key, tokens('p', 100), t0);
    expect(standard.get(key, t0 + 69)).toBeDefined();
    expect(standard.get(key, t0 + 70)).toBeUndefined();
    const wide = createPassportCache<ReturnType<typeof tokens>>({ skewSeconds: 90 });
    wide.put(key, tokens('p', 100), t0);
    expect(wide.get(key, t0 + 9)).toBeDefined();
    expect(wide.get(key, t0 + 10)).toBeUndefined();
    expect(() => createPassportCache({ skewSeconds: -1 })).toThrow(TypeError);
  });

  it('does not keep a Passport without a lifetime or one stale on arrival', () => {
    const cache = createPassportCache<ReturnType<typeof tokens>>({ skewSeconds: 30 });
    const key = passportCacheKey(base);
    expect(cache.put(key, tokens('no-exp'), t0)).toBe(false);
    expect(cache.put(key, tokens('short', 30), t0)).toBe(false);
    expect(cache.get(key, t0)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('separates grant kind, resource, scope, details, subject and actor tokens', () => {
    const keys = [
      passportCacheKey(base),
      passportCacheKey({ ...base, kind: 'token_exchange' }),
      passportCacheKey({ ...base, resource: 'https://reports.example' }),
      passportCacheKey({ ...base, scope: 'read-data write-data' }),
      passportCacheKey({ ...base, authorizationDetails: [{ type: 'tool', name: 'search' }] }),
      passportCacheKey({ ...base, authorizationDetails: [{ type: 'tool', name: 'delete' }] }),
      passportCacheKey({ ...base, kind: 'token_exchange', subjectToken: 'subject-a' }),
      passportCacheKey({ ...base, kind: 'token_exchange', subjectToken: 'subject-b' }),
      passportCacheKey({ ...base, kind: 'token_exchange', subjectToken: 'subject-a', subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token' }),
      passportCacheKey({ ...base, kind: 'token_exchange', subjectToken: 'subject-a', actorToken: 'actor' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);

    const cache = createPassportCache<ReturnType<typeof tokens>>();
    keys.forEach((key, i) => cache.put(key, tokens(`p${i}`, 300), t0));
    keys.forEach((key, i) => expect(cache.get(key, t0)?.access_token).toBe(`p${i}`));
  });

  it('treats scope as a set, and keeps tokens out of keys', () => {
    expect(passportCacheKey({ ...base, scope: 'write-data read-data' })).toBe(passportCacheKey({ ...base, scope: 'read-data  write-data read-data' }));
    const key = passportCacheKey({ ...base, kind: 'token_exchange', subjectToken: 'eyJ.secret-subject.sig', actorToken: 'eyJ.secret-actor.sig' });
    expect(key).not.toContain('secret-subject');
    expect(key).not.toContain('secret-actor');
  });

  it('refuses lifetimes that are not finite positive numbers, and stays bounded (oldest out first)', () => {
    const cache = createPassportCache<{ access_token: string; expires_in?: number }>({ skewSeconds: 0, maxEntries: 2 });
    const key = (n: number) => passportCacheKey({ ...base, scope: `s${n}` });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -5, 0]) expect(cache.put(key(0), { access_token: 'bad', expires_in: bad }, t0)).toBe(false);
    expect(cache.size).toBe(0);
    expect(cache.put(key(1), tokens('p1', 100), t0)).toBe(true);
    expect(cache.put(key(2), tokens('p2', 100), t0)).toBe(true);
    expect(cache.put(key(3), tokens('p3', 100), t0)).toBe(true);
    expect(cache.size).toBe(2);
    expect(cache.get(key(1), t0)).toBeUndefined();
    expect(cache.get(key(2), t0)?.access_token).toBe('p2');
    expect(cache.get(key(3), t0)?.access_token).toBe('p3');
  });
});
