// Rate limits (issue 17 §1): failed client authentications per client_id and per source address,
// token requests and device authorizations per client, dynamic registrations and metadata-document
// fetches per source address, sign-in starts and consent answers per browser, wrong user codes per
// login session (user-codes.ts). On SQLite (one node) the counters are in-process
// (rate-limiter-flexible's RateLimiterMemory: no database call per request); on PostgreSQL they are
// shared by every node (the store's createRateLimiter, RateLimiterPostgres). They outlive a config
// reload (createDeps passes the running ones on); their settings are read at start.
//
// What the client sees: 429 with Retry-After and the OAuth error `temporarily_unavailable`. No RFC
// has a code for "too many requests" at these endpoints; `temporarily_unavailable` (RFC 6749
// §4.1.2.1, in the OAuth Extensions Error registry) is the one that tells a client to retry later
// rather than to give up: `invalid_client` would make a client with a right secret believe it
// wrong, and `slow_down` is device-flow polling only (RFC 8628 §3.5). A browser gets the same as a
// page (http/limit-page.tsx).
//
// Every limit reached goes through the one `onReached` given to createRateLimits (deps.ts: log line
// and receipt), once per key and window.
import { createHash } from 'node:crypto';
import { RateLimiterMemory, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from '../oauth/errors.ts';
import type { Store } from '../store/ports.ts';
import { createUserCodeAttempts, userCodeWindowSeconds, type UserCodeAttempts } from './user-codes.ts';
import type { KeyKind, LimitReached, RateLimitName } from './types.ts';

export type { KeyKind, LimitReached, RateLimitName } from './types.ts';

type Setting = { max: number; window_seconds: number };
export type RateLimitSettings = Partial<Record<RateLimitName, Setting>>;

/** The counters; a limit whose max is 0 has none. Built once per process. */
export type Limiters = Readonly<Partial<Record<RateLimitName, RateLimiterAbstract>>>;

/**
 * The user-code counter holds up to the schema's maximum of device.user_code_attempts: the allowed
 * number is compared on each request (user-codes.ts), so a reload that changes it applies at once.
 */
const userCodeCounter: Setting = { max: 100, window_seconds: userCodeWindowSeconds };

/** `shared`: the store's factory of counters shared by all nodes (PostgreSQL); without it, in memory. */
export async function createLimiters(settings: RateLimitSettings, shared?: Store['createRateLimiter']): Promise<Limiters> {
  const limiters: Partial<Record<RateLimitName, RateLimiterAbstract>> = {};
  const all: RateLimitSettings = { user_code_attempts: userCodeCounter, ...settings };
  for (const [name, setting] of Object.entries(all) as [RateLimitName, Setting][]) {
    const { max, window_seconds } = setting;
    if (max <= 0) continue;
    const options = { keyPrefix: name, points: max, duration: window_seconds };
    limiters[name] = shared ? await shared(options) : new RateLimiterMemory(options);
  }
  return limiters;
}

/** Who a browser request counts as: its browser (the hash of its cookie id) when it sent one, and its source address. */
export type Visitor = { browser: string | undefined; source: string | undefined };

export type RateLimits = {
  /** Before any credential is checked: 429 when this client_id or this address has failed too often. */
  checkClientAuth(clientId: string | undefined, source: string | undefined): Promise<void>;
  /** After a failed client authentication (invalid_client). */
  clientAuthFailed(clientId: string | undefined, source: string | undefined): Promise<void>;
  /** One token request of an authenticated client; 429 over the limit. */
  tokenRequest(clientId: string): Promise<void>;
  /** One registration attempt from this address; 429 over the limit. */
  registration(source: string | undefined): Promise<void>;
  /** One device authorization request of an authenticated client; 429 over the limit. */
  deviceAuthorization(clientId: string): Promise<void>;
  /** One Client ID Metadata Document about to be fetched (a cache miss) for a request from this address; 429 over the limit. */
  metadataDocumentFetch(source: string | undefined): Promise<void>;
  /** One sign-in started at an upstream: counted per source address, and per browser when it sent its cookie. */
  signInStart(visitor: Visitor): Promise<void>;
  /** One consent answer posted by this browser. */
  consentAnswer(browser: string | undefined): Promise<void>;
  /** One personal access token created by this person; 429 over the limit. */
  patCreation(sub: string): Promise<void>;
  /** Before a presented PAT is looked up: 429 when this address has presented bad ones too often. */
  checkPat(source: string | undefined): Promise<void>;
  /** After a presented PAT was refused (unknown, revoked, expired, forged). */
  patFailed(source: string | undefined): Promise<void>;
  /** Wrong user codes per login session (RFC 8628 §5.1). */
  readonly userCodes: UserCodeAttempts;
};

/** A long key (a client_id may be a URL) as its hash: the shared table's keys are at most 255 characters. */
const keyOf = (key: string): string => (key.length > 200 ? `sha256:${createHash('sha256').update(key).digest('base64url')}` : key);

const retryAfter = (res: RateLimiterRes): number => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

export function tooManyRequests(seconds: number, description = 'too many requests; retry later'): OAuthError {
  return new OAuthError('temporarily_unavailable', description, { status: 429, headers: { 'Retry-After': String(seconds) }, reason: 'rate_limited' });
}

/** The 429 of a rate limit (to render it as a page where the request came from a browser). */
export const isRateLimited = (error: unknown): error is OAuthError => error instanceof OAuthError && error.status === 429;

export function createRateLimits(limiters: Limiters, onReached: (reached: LimitReached) => void): RateLimits {
  const { client_auth_failures: perClient, address_auth_failures: perAddress } = limiters;

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
  const consume = async (limit: RateLimitName, keyKind: KeyKind, key: string | undefined) => {
    const limiter = limiters[limit];
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
    tokenRequest: (clientId) => consume('token_requests', 'client', clientId),
    registration: (source) => consume('registrations', 'address', source),
    deviceAuthorization: (clientId) => consume('device_authorizations', 'client', clientId),
    metadataDocumentFetch: (source) => consume('metadata_document_fetches', 'address', source),
    async signInStart({ browser, source }) {
      await consume('address_sign_in_pages', 'address', source);
      await consume('sign_in_pages', 'browser', browser);
    },
    consentAnswer: (browser) => consume('consent_pages', 'browser', browser),
    patCreation: (sub) => consume('pat_creations', 'person', sub),
    async checkPat(source) {
      const seconds = await blocked(limiters.pat_failures, source);
      if (seconds !== undefined) throw tooManyRequests(seconds, 'too many failed personal access tokens; retry later');
    },
    patFailed: (source) => fail('pat_failures', 'address', limiters.pat_failures, source),
    userCodes: createUserCodeAttempts(limiters.user_code_attempts, onReached),
  };
}
