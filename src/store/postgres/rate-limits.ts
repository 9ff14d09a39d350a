// Rate limit counters shared by every node of one PostgreSQL database: rate-limiter-flexible's
// RateLimiterPostgres on the store's pg Pool, one table (consulate_rate_limits, created by the
// library if missing; concurrent creation by several nodes is tolerated), one key prefix per limit.
// Should the database fail, a limiter falls back to an in-memory one on this node (insuranceLimiter)
// rather than refusing or failing the request.
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiterOptions } from '../ports.ts';

export const rateLimitTable = 'consulate_rate_limits';

export function createPgRateLimiter(pool: pg.Pool) {
  return (options: RateLimiterOptions): Promise<RateLimiterAbstract> =>
    new Promise((resolveLimiter, reject) => {
      const limiter: RateLimiterPostgres = new RateLimiterPostgres(
        {
          storeClient: pool,
          storeType: 'pool',
          tableName: rateLimitTable,
          keyPrefix: options.keyPrefix,
          points: options.points,
          duration: options.duration,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix: options.keyPrefix, points: options.points, duration: options.duration }),
        },
        (error?: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolveLimiter(limiter)),
      );
    });
}
