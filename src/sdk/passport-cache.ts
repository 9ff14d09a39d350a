// The agent SDK's Passport cache: a Passport is reused for the same grant kind, resource, scope,
// authorization details and subject (and actor) token until `skewSeconds` before it expires.
// Time comes in as an argument (seconds) so tests drive it with a fixed clock. It must not keep
// tokens in keys: subject and actor tokens enter the key only as SHA-256 hashes, and it never
// stores a Passport without a lifetime or one that would be stale on arrival.
import { createHash } from 'node:crypto';
import { createTtlCache } from './ttl-cache.ts';

export type PassportCacheKeyParts = {
  kind: 'client_credentials' | 'token_exchange';
  resource?: string | undefined;
  scope?: string | undefined;
  authorizationDetails?: unknown;
  subjectToken?: string | undefined;
  subjectTokenType?: string | undefined;
  actorToken?: string | undefined;
};

export type PassportCache<T extends { expires_in?: number | undefined }> = {
  get(key: string, now: number): T | undefined;
  /** Keeps the answer until `expires_in - skewSeconds` from `now`; false when it was not kept. */
  put(key: string, tokens: T, now: number): boolean;
  readonly size: number;
};

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Scopes are a set (RFC 6749 §3.3): order and repeats do not make a different Passport. */
const normalScope = (scope: string | undefined) => (scope ? [...new Set(scope.split(' ').filter(Boolean))].sort().join(' ') : '');

export function passportCacheKey(parts: PassportCacheKeyParts): string {
  return JSON.stringify([
    parts.kind,
    parts.resource ?? '',
    normalScope(parts.scope),
    parts.authorizationDetails === undefined ? '' : JSON.stringify(parts.authorizationDetails),
    parts.subjectToken === undefined ? '' : sha256(parts.subjectToken),
    parts.subjectTokenType ?? '',
    parts.actorToken === undefined ? '' : sha256(parts.actorToken),
  ]);
}

export function createPassportCache<T extends { expires_in?: number | undefined }>(options: { skewSeconds?: number; maxEntries?: number } = {}): PassportCache<T> {
  const skew = options.skewSeconds ?? 30;
  if (!Number.isFinite(skew) || skew < 0) throw new TypeError('skewSeconds must be a non-negative number');
  const entries = createTtlCache<T>(options.maxEntries ?? 500);
  return {
    get: (key, now) => entries.get(key, now),
    put(key, tokens, now) {
      if (typeof tokens.expires_in !== 'number' || !Number.isFinite(tokens.expires_in)) return false;
      const until = now + tokens.expires_in - skew;
      if (until <= now) return false;
      entries.put(key, tokens, until, now);
      return true;
    },
    get size() {
      return entries.size;
    },
  };
}
