// Rate limit counters on PostgreSQL (src/store/postgres/rate-limits.ts): the reads of one
// event-loop turn go to the database as one query, each caller still gets its own key's count, a
// count another node wrote is seen, and a failed read falls back to the in-memory insurance limiter.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLimiters, createRateLimits, isRateLimited } from '../../../src/limits/limits.ts';
import { createPgRateLimiter } from '../../../src/store/postgres/rate-limits.ts';
import { freshPostgresUrl, skipPostgres } from '../../setup/postgres.ts';

describe.skipIf(skipPostgres())('rate limit counters on PostgreSQL', () => {
  const pools: pg.Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => {})));
  });
  /** A pool that counts its queries (as the store's would be), on a fresh database. */
  const countingPool = (url: string) => {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    pools.push(pool);
    const counted = { queries: 0 };
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      counted.queries += 1;
      return query(...args);
    };
    return { pool, counted };
  };

  it('reads made in one turn are one query, and each caller gets its own counter', async () => {
    const { pool, counted } = countingPool(await freshPostgresUrl());
    const create = createPgRateLimiter(pool);
    const perClient = await create({ keyPrefix: 'client_auth_failures', points: 5, duration: 60 });
    const perAddress = await create({ keyPrefix: 'address_auth_failures', points: 5, duration: 60 });
    await perClient.penalty('agent-a', 1);
    await perClient.penalty('agent-b', 3);
    await perAddress.penalty('192.0.2.7', 2);

    const before = counted.queries;
    const reads = await Promise.all([perClient.get('agent-a'), perClient.get('agent-b'), perClient.get('agent-c'), perAddress.get('192.0.2.7'), perAddress.get('agent-b'), perClient.get('agent-b')]);
    expect(counted.queries - before).toBe(1);
    expect(reads.map((r) => r?.consumedPoints ?? 0)).toEqual([1, 3, 0, 2, 0, 3]);
    expect(reads[1]?.msBeforeNext).toBeGreaterThan(50_000);
  });

  it('a node blocks a client and an address that failed too often at another node, in the same turn as a request it lets through', async () => {
    const url = await freshPostgresUrl();
    const settings = { client_auth_failures: { max: 3, window_seconds: 60 }, address_auth_failures: { max: 4, window_seconds: 60 } };
    const node = async () => createRateLimits(await createLimiters(settings, createPgRateLimiter(countingPool(url).pool)), () => {});
    const [a, b] = [await node(), await node()];
    for (let i = 0; i < 3; i++) await a.clientAuthFailed('guessed-client', '198.51.100.1');
    await a.clientAuthFailed('other-client', '203.0.113.9');
    for (let i = 0; i < 3; i++) await a.clientAuthFailed(`client-${i}`, '203.0.113.9');

    const outcomes = await Promise.all([
      b.checkClientAuth('guessed-client', '198.51.100.2').catch((error: unknown) => error),
      b.checkClientAuth('fine-client', '203.0.113.9').catch((error: unknown) => error),
      b.checkClientAuth('fine-client', '198.51.100.2').catch((error: unknown) => error),
    ]);
    expect(outcomes.map((o) => isRateLimited(o))).toEqual([true, true, false]);
  });

  it('when the database cannot be read, a check answers from the in-memory insurance limiter instead of failing', async () => {
    const { pool } = countingPool(await freshPostgresUrl());
    const limits = createRateLimits(await createLimiters({ client_auth_failures: { max: 2, window_seconds: 60 } }, createPgRateLimiter(pool)), () => {});
    await pool.end();
    await expect(limits.checkClientAuth('agent-a', undefined)).resolves.toBeUndefined();
  });
});
