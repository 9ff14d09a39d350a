// Rate limit counters shared by every node of one PostgreSQL database: rate-limiter-flexible's
// RateLimiterPostgres on the store's pg Pool, one table (consulate_rate_limits, created by the
// library if missing; concurrent creation by several nodes is tolerated), one key prefix per limit.
// Should the database fail, a limiter falls back to an in-memory one on this node (insuranceLimiter)
// rather than refusing or failing the request.
//
// Reads are batched: every token request reads the failed-authentication counters of its client
// and of its address before any credential is checked (limits.ts), so all the reads made in one
// event-loop turn, by every limiter of the pool, go to the database as ONE query. A read is still
// made per request and after the request arrived, so counts are as fresh as unbatched ones.
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type IRateLimiterPostgresOptions, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiterOptions } from '../ports.ts';

export const rateLimitTable = 'consulate_rate_limits';

/** A counter's row as the library reads it (`points`, `expire` in epoch ms or null), or null when it has none. */
type CounterRead = { rows: { points: number; expire: string | number | null }[] } | null;

/** Reads of one turn, by rate limiter key; one query when the turn ends. Concurrent turns' queries may overlap. */
export function createBatchedReads(pool: pg.Pool): (key: string) => Promise<CounterRead> {
  let waiting = new Map<string, { resolve: (read: CounterRead) => void; reject: (error: unknown) => void }[]>();
  const flush = async () => {
    const batch = waiting;
    waiting = new Map();
    try {
      const { rows } = await pool.query<{ key: string; points: number; expire: string | null }>({
        name: 'consulate-rate-limits-read',
        text: `SELECT key, points, expire FROM ${rateLimitTable} WHERE key = ANY($1::text[]) AND (expire > $2 OR expire IS NULL)`,
        values: [[...batch.keys()], Date.now()],
      });
      const found = new Map(rows.map((row) => [row.key, row]));
      for (const [key, callers] of batch) {
        const row = found.get(key);
        for (const caller of callers) caller.resolve(row ? { rows: [{ points: row.points, expire: row.expire }] } : null);
      }
    } catch (error) {
      for (const callers of batch.values()) for (const caller of callers) caller.reject(error);
    }
  };
  return (key) =>
    new Promise((resolve, reject) => {
      if (waiting.size === 0) setImmediate(() => void flush());
      const callers = waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
    });
}

/**
 * RateLimiterPostgres whose reads go through `read`. `_get(rlKey)` is the library's one read of a
 * counter (rate-limiter-flexible 11): get() turns its row into a RateLimiterRes and, should it
 * fail, answers from the insurance limiter, as for any other read.
 */
class BatchedRateLimiterPostgres extends RateLimiterPostgres {
  constructor(
    options: IRateLimiterPostgresOptions,
    ready: (error?: unknown) => void,
    private readonly read: (key: string) => Promise<CounterRead>,
  ) {
    super(options, ready);
  }

  _get(rlKey: string): Promise<CounterRead> {
    if (!(this as unknown as { tableCreated: boolean }).tableCreated) return Promise.reject(new Error('Table is not created yet'));
    return this.read(rlKey);
  }
}

export function createPgRateLimiter(pool: pg.Pool) {
  const read = createBatchedReads(pool);
  return (options: RateLimiterOptions): Promise<RateLimiterAbstract> =>
    new Promise((resolveLimiter, reject) => {
      const limiter: RateLimiterPostgres = new BatchedRateLimiterPostgres(
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
        read,
      );
    });
}
