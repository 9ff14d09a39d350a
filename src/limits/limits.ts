// Rate limits (issue 17 §1): failed client authentications per client_id and per source address,
// token requests per client, dynamic registrations per source address. On SQLite (one node) the
// counters are in-process (rate-limiter-flexible's RateLimiterMemory: no database call per request);
// on PostgreSQL they are shared by every node (the store's createRateLimiter, RateLimiterPostgres).
// They outlive a config reload (createDeps passes the running ones on); their settings are read at start.
//
// What the client sees: 429 with Retry-After and the OAuth error `temporarily_unavailable`. No RFC
// has a code for "too many requests" at these endpoints; `temporarily_unavailable` (RFC 6749
// §4.1.2.1, in the OAuth Extensions Error registry) is the one that tells a client to retry later
// rather than to give up: `invalid_client` would make a client with a right secret believe it
// wrong, and `slow_down` is device-flow polling only (RFC 8628 §3.5).
import { createHash } from 'node:crypto';
import { RateLimiterMemory, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from '../oauth/errors.ts';
import type { Store } from '../store/ports.ts';

export type RateLimitName = 'client_auth_failures' | 'address_auth_failures' | 'token_requests' | 'registrations';
export type KeyKind = 'client' | 'address';
type Setting = { max: number; window_seconds: number };
export type RateLimitSettings = Record<RateLimitName, Setting>;

/** The counters; a limit whose max is 0 has none. Built once per process. */
export type Limiters = Readonly<Partial<Record<RateLimitName, RateLimiterAbstract>>>;

/** `shared`: the store's factory of counters shared by all nodes (PostgreSQL); without it, in memory. */
export async function createLimiters(settings: RateLimitSettings, shared?: Store['createRateLimiter']): Promise<Limiters> {
  const limiters: Partial<Record<RateLimitName, RateLimiterAbstract>> = {};
  for (const name of Object.keys(settings) as RateLimitName[]) {
    const { max, window_seconds } = settings[name];
    if (max <= 0) continue;
    const options = { keyPrefix: name, points: max, duration: window_seconds };
    limiters[name] = shared ? await shared(options) : new RateLimiterMemory(options);
  }
  return limiters;
}

/** A limit reached for one key, reported once per key and window. `key` is a client_id or an address, never a secret. */
export type LimitReached = { limit: RateLimitName; keyKind: KeyKind; key: string; retryAfterSeconds: number };

export type RateLimits = {
  /** Before any credential is checked: 429 when this client_id or this address has failed too often. */
  checkClientAuth(clientId: string | undefined, source: string | undefined): Promise<void>;
  /** After a failed client authentication (invalid_client). */
  clientAuthFailed(clientId: string | undefined, source: string | undefined): Promise<void>;
  /** One token request of an authenticated client; 429 over the limit. */
  tokenRequest(clientId: string): Promise<void>;
  /** One registration attempt from this address; 429 over the limit. */
  registration(source: string | undefined): Promise<void>;
};

/** A long key (a client_id may be a URL) as its hash: the shared table's keys are at most 255 characters. */
const keyOf = (key: string): string => (key.length > 200 ? `sha256:${createHash('sha256').update(key).digest('base64url')}` : key);

const retryAfter = (res: RateLimiterRes): number => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

export function tooManyRequests(seconds: number, description = 'too many requests; retry later'): OAuthError {
  return new OAuthError('temporarily_unavailable', description, { status: 429, headers: { 'Retry-After': String(seconds) }, reason: 'rate_limited' });
}

export function createRateLimits(limiters: Limiters, onReached: (reached: LimitReached) => void): RateLimits {
  const { client_auth_failures: perClient, address_auth_failures: perAddress, token_requests: tokens, registrations } = limiters;

  const blocked = async (limiter: RateLimiterAbstract | undefined, key: string | undefined): Promise<number | undefined> => {
    if (!limiter || key === undefined) return undefined;
    const res = await limiter.get(keyOf(key));
    return res && res.consumedPoints >= limiter.points ? retryAfter(res) : undefined;
  };
  const fail = async (limit: RateLimitName, keyKind: KeyKind, limiter: RateLimiterAbstract | undefined, key: string | undefined) => {
    if (!limiter || key === undefined) return;
    const res = await limiter.penalty(keyOf(key));
    // Exactly once per key and window: the failure that reaches the limit (blocked requests add none).
    if (res.consumedPoints === limiter.points) onReached({ limit, keyKind, key, retryAfterSeconds: retryAfter(res) });
  };
  /** Consumes one point; 429 over the limit, reported the first time it is passed in the window. */
  const consume = async (limit: RateLimitName, keyKind: KeyKind, limiter: RateLimiterAbstract | undefined, key: string | undefined) => {
    if (!limiter || key === undefined) return;
    try {
      await limiter.consume(keyOf(key));
    } catch (rejected) {
      if (rejected instanceof Error) throw rejected;
      const res = rejected as RateLimiterRes;
      if (res.consumedPoints === limiter.points + 1) onReached({ limit, keyKind, key, retryAfterSeconds: retryAfter(res) });
      throw tooManyRequests(retryAfter(res));
    }
  };

  return {
    async checkClientAuth(clientId, source) {
      const seconds = (await blocked(perClient, clientId)) ?? (await blocked(perAddress, source));
      if (seconds !== undefined) throw tooManyRequests(seconds, 'too many failed client authentications; retry later');
    },
    async clientAuthFailed(clientId, source) {
      await fail('client_auth_failures', 'client', perClient, clientId);
      await fail('address_auth_failures', 'address', perAddress, source);
    },
    tokenRequest: (clientId) => consume('token_requests', 'client', tokens, clientId),
    registration: (source) => consume('registrations', 'address', registrations, source),
  };
}
