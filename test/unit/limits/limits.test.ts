// The rate limits' counting: wrong user codes per login session (a window from the sign-in, on
// Consulate's clock), the limits that answer 429, and, on PostgreSQL, counters shared by two nodes
// of one database (on SQLite each process counts on its own, by design: one node).
import { afterEach, describe, expect, it } from 'vitest';
import { createLimiters, createRateLimits, isRateLimited, type LimitReached } from '../../../src/limits/limits.ts';
import { openPostgresStore } from '../../../src/store/postgres/open.ts';
import type { Store } from '../../../src/store/ports.ts';
import { freshPostgresUrl, skipPostgres } from '../../setup/postgres.ts';

const alice = { sid: 'sid-alice', createdAt: 1_000 };
const bob = { sid: 'sid-bob', createdAt: 1_000 };

describe('wrong user codes per login session', () => {
  it('max per 10 minutes from the sign-in, then a wait until that window ends; other sessions apart; reported once', async () => {
    const reached: LimitReached[] = [];
    const { userCodes } = createRateLimits(await createLimiters({}), (r) => reached.push(r));
    expect(await userCodes.waitSeconds(alice, 3, 1_010)).toBe(0);
    expect(await userCodes.failed(alice, 3, 1_010)).toBe(2);
    expect(await userCodes.failed(alice, 3, 1_020)).toBe(1);
    expect(await userCodes.failed(alice, 3, 1_030)).toBe(0);
    expect(await userCodes.waitSeconds(alice, 3, 1_030)).toBe(570);
    expect(await userCodes.waitSeconds(alice, 3, 1_599)).toBe(1);
    expect(await userCodes.waitSeconds(bob, 3, 1_030)).toBe(0);
    // The next window, on the server's clock: may try again, with a fresh count.
    expect(await userCodes.waitSeconds(alice, 3, 1_600)).toBe(0);
    expect(await userCodes.failed(alice, 3, 1_600)).toBe(2);
    expect(reached).toEqual([{ limit: 'user_code_attempts', keyKind: 'session', key: 'sid-alice', retryAfterSeconds: 570 }]);
  });

  it('device.user_code_attempts is read on each request: a lower one (a reload) applies at once', async () => {
    const { userCodes } = createRateLimits(await createLimiters({}), () => undefined);
    await userCodes.failed(alice, 5, 1_010);
    await userCodes.failed(alice, 5, 1_011);
    expect(await userCodes.waitSeconds(alice, 5, 1_012)).toBe(0);
    expect(await userCodes.waitSeconds(alice, 2, 1_012)).toBe(588);
  });
});

describe('limits that answer 429', () => {
  it('device authorizations per client: over max a 429 temporarily_unavailable with Retry-After, reported once; other clients unaffected', async () => {
    const reached: LimitReached[] = [];
    const limits = createRateLimits(await createLimiters({ device_authorizations: { max: 2, window_seconds: 60 } }), (r) => reached.push(r));
    await limits.deviceAuthorization('cli');
    await limits.deviceAuthorization('cli');
    for (let i = 0; i < 2; i++) {
      const refused = await limits.deviceAuthorization('cli').catch((e: unknown) => e);
      expect(isRateLimited(refused)).toBe(true);
      expect(refused).toMatchObject({ code: 'temporarily_unavailable', status: 429 });
      expect(Number((refused as { headers: Record<string, string> }).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
    await limits.deviceAuthorization('other-cli');
    expect(reached).toEqual([expect.objectContaining({ limit: 'device_authorizations', keyKind: 'client', key: 'cli' })]);
  });

  it('a sign-in start counts against the address always and against the browser when there is one', async () => {
    const reached: LimitReached[] = [];
    const limits = createRateLimits(
      await createLimiters({ sign_in_pages: { max: 1, window_seconds: 60 }, address_sign_in_pages: { max: 3, window_seconds: 60 } }),
      (r) => reached.push(r),
    );
    await limits.signInStart({ browser: 'b1', source: '192.0.2.1' });
    expect(isRateLimited(await limits.signInStart({ browser: 'b1', source: '192.0.2.1' }).catch((e: unknown) => e))).toBe(true);
    await limits.signInStart({ browser: undefined, source: '192.0.2.1' });
    expect(isRateLimited(await limits.signInStart({ browser: 'b2', source: '192.0.2.1' }).catch((e: unknown) => e))).toBe(true);
    expect(reached.map((r) => [r.limit, r.keyKind])).toEqual([['sign_in_pages', 'browser'], ['address_sign_in_pages', 'address']]);
  });

  it('a limit whose max is 0 is off', async () => {
    const limits = createRateLimits(await createLimiters({ consent_pages: { max: 0, window_seconds: 60 } }), () => undefined);
    for (let i = 0; i < 100; i++) await limits.consentAnswer('b1');
  });
});

describe.skipIf(skipPostgres())('on PostgreSQL: two nodes of one database count together', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const twoNodes = async () => {
    const url = await freshPostgresUrl();
    const [a, b] = [await openPostgresStore(url, { poolSize: 2 }), await openPostgresStore(url, { poolSize: 2 })];
    stores.push(a, b);
    const reached: LimitReached[] = [];
    const settings = { device_authorizations: { max: 3, window_seconds: 60 } };
    const nodeA = createRateLimits(await createLimiters(settings, a.createRateLimiter), (r) => reached.push(r));
    const nodeB = createRateLimits(await createLimiters(settings, b.createRateLimiter), (r) => reached.push(r));
    return { nodeA, nodeB, reached };
  };

  it('wrong user codes entered at either node count for the session on both', async () => {
    const { nodeA, nodeB, reached } = await twoNodes();
    expect(await nodeA.userCodes.failed(alice, 3, 1_010)).toBe(2);
    expect(await nodeB.userCodes.failed(alice, 3, 1_011)).toBe(1);
    expect(await nodeB.userCodes.waitSeconds(alice, 3, 1_012)).toBe(0);
    expect(await nodeA.userCodes.failed(alice, 3, 1_012)).toBe(0);
    expect(await nodeA.userCodes.waitSeconds(alice, 3, 1_013)).toBe(587);
    expect(await nodeB.userCodes.waitSeconds(alice, 3, 1_013)).toBe(587);
    expect(await nodeB.userCodes.waitSeconds(bob, 3, 1_013)).toBe(0);
    expect(reached).toEqual([expect.objectContaining({ limit: 'user_code_attempts', key: 'sid-alice' })]);
  });

  it('device authorizations per client count across nodes', async () => {
    const { nodeA, nodeB } = await twoNodes();
    await nodeA.deviceAuthorization('cli');
    await nodeB.deviceAuthorization('cli');
    await nodeA.deviceAuthorization('cli');
    expect(isRateLimited(await nodeB.deviceAuthorization('cli').catch((e: unknown) => e))).toBe(true);
  });
});
