// Label values of the metrics: every one comes from a closed set (the code's own names, or ids the
// config defines), never from what a caller sent. A value outside the set becomes `other`, so an
// attacker cannot mint new series (unbounded memory in Consulate and in Prometheus).

/** The grant types Consulate serves, by their short names (the URN's last segment, `-` as `_`). */
const grantNames: ReadonlyMap<string, string> = new Map(
  [
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'urn:ietf:params:oauth:grant-type:token-exchange',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'urn:openid:params:grant-type:ciba',
    'urn:ietf:params:oauth:grant-type:device_code',
  ].map((grantType) => [grantType, (grantType.split(':').at(-1) ?? grantType).replace(/-/g, '_')]),
);

/** `token_exchange` for the RFC 8693 URN; anything unknown (or absent) is `other`. */
export const grantLabel = (grantType: string | undefined): string => (grantType === undefined ? 'other' : (grantNames.get(grantType) ?? 'other'));

/** The value when the config (or the code) knows it, else `other`. */
export const knownOr = (known: { has(key: string): boolean }, value: string | undefined): string => (value !== undefined && known.has(value) ? value : 'other');

const methods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const methodLabel = (method: string): string => (methods.has(method) ? method : 'other');

const classes = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export const statusClass = (status: number): string => classes[Math.floor(status / 100)] ?? 'other';
