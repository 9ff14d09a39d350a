// The names of rate limits and what a reached limit reports: a leaf (types only), shared by the
// limiters (limits.ts) and the user-code counter (user-codes.ts).

export type RateLimitName =
  | 'client_auth_failures'
  | 'address_auth_failures'
  | 'token_requests'
  | 'registrations'
  | 'device_authorizations'
  | 'metadata_document_fetches'
  | 'sign_in_pages'
  | 'address_sign_in_pages'
  | 'consent_pages'
  | 'pat_creations'
  | 'pat_failures'
  | 'user_code_attempts';

/** What a counter is keyed by: a client_id, a source address, a browser (the hash of its cookie id), a login session (its sid), a person (their sub). */
export type KeyKind = 'client' | 'address' | 'browser' | 'session' | 'person';
/** A limit reached for one key, reported once per key and window. `key` is a client_id, an address, a hash or a sid, never a secret. */
export type LimitReached = { limit: RateLimitName; keyKind: KeyKind; key: string; retryAfterSeconds: number };
