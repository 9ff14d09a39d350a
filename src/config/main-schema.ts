// Zod schema of config/consulate.yaml (the main config): defaults and one doc line per key (the doc
// lines become the JSON Schema descriptions editors show). Shapes only; see cross-check.ts.
import { isIP } from 'node:net';
import { z } from 'zod';
import { httpsOrLoopbackUrl, seconds } from './values.ts';
import { clientIdMetadataDocumentsSchema, dynamicRegistrationSchema } from './open-clients-schema.ts';
import { metricsSchema } from './metrics-schema.ts';
import { brandingSchema } from './branding-schema.ts';
import { ssfSchema } from './ssf-schema.ts';
import { adminSchema } from './admin-schema.ts';
import { patsSchema } from './pats-schema.ts';

function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function rateLimit(what: string, max: number, windowSeconds: number) {
  return z
    .strictObject({
      max: z.number().int().min(0).max(100_000_000).default(max).describe('How many are allowed per window; 0 turns this limit off.'),
      window_seconds: z.number().int().min(1).max(86400).default(windowSeconds).describe('The window, in seconds: counting starts with the first one and ends with the window.'),
    })
    .prefault({})
    .describe(what);
}

export const mainConfigSchema = z
  .strictObject({
    issuer: httpsOrLoopbackUrl
      .optional()
      .describe('Issuer identifier and base URL of every endpoint. Overridden by CONSULATE_ISSUER. When absent: http://<host>:<port> of the listener.'),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('Address to listen on. Overridden by CONSULATE_HOST.'),
        port: z.number().int().min(0).max(65535).default(8080).describe('TCP port; 0 picks a free one. Overridden by CONSULATE_PORT.'),
      })
      .prefault({})
      .describe('Where the HTTP server listens.'),
    data_dir: z.string().min(1).default('./data').describe('Directory of the embedded database and generated keys, relative to the working directory. Overridden by CONSULATE_DATA_DIR.'),
    database_url: z
      .string()
      .min(1)
      .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must be sqlite:<path>, postgres://… or postgresql://…')
      .optional()
      .describe('Database URL: sqlite:<path> (embedded, one node) or postgres://user:password@host:port/db (also postgresql://; several nodes may share it). Default: sqlite:<data_dir>/consulate.db. Overridden by CONSULATE_DATABASE_URL.'),
    database: z
      .strictObject({
        pool_size: z.number().int().min(1).max(1000).default(10).describe('PostgreSQL: connections per node (each node has its own pool; mind the server\'s max_connections).'),
        statement_timeout_ms: z.number().int().min(100).max(600000).default(5000).describe('PostgreSQL: statement_timeout of every connection; a longer statement is cancelled and its request is answered 503 with Retry-After.'),
        busy_timeout_ms: z
          .number()
          .int()
          .min(0)
          .max(5000)
          .default(250)
          .describe('SQLite: how long a write waits for a lock another process (the CLI) holds. The whole server waits with it (the driver is synchronous), so it is short; past it the request is answered 503 with Retry-After.'),
      })
      .prefault({})
      .describe('Database settings: pool and statement timeout for PostgreSQL, lock wait for SQLite.'),
    passports: z
      .strictObject({
        ttl_seconds: seconds('Default Passport lifetime when a resource sets none.', 300, 3600),
        max_ttl_seconds: seconds('Upper bound of any Passport lifetime; decides how long retired keys stay published.', 3600, 86400),
        signing_alg: z.enum(['ES256', 'RS256']).default('ES256').describe('Algorithm Passports are signed with.'),
      })
      .prefault({})
      .describe('Passport (RFC 9068 access token) settings.'),
    authorization: z
      .strictObject({
        code_ttl_seconds: seconds('Lifetime of an authorization code.', 60, 600),
        par_ttl_seconds: seconds('Lifetime of a pushed authorization request (request_uri, RFC 9126).', 60, 600),
        request_ttl_seconds: seconds('How long a person has to log in and consent before an authorization request expires.', 1800, 3600),
        id_token_ttl_seconds: seconds('Lifetime of ID tokens.', 300, 3600),
        refresh_ttl_seconds: seconds('Lifetime of each refresh token (rotated on every use).', 14 * 86400, 365 * 86400),
        refresh_family_max_seconds: seconds('Longest time refresh tokens can be chained from one login before the person must log in again.', 30 * 86400, 365 * 86400),
        session_ttl_seconds: seconds('Lifetime of a browser session at Consulate.', 8 * 3600, 30 * 86400),
      })
      .prefault({})
      .describe('Browser flows: /authorize, codes, ID tokens, refresh tokens, sessions.'),
    reload: z
      .strictObject({
        watch: z.boolean().default(true).describe('Watch the config directory and apply valid changes without a restart (SIGHUP reloads too). Changes to issuer, listen, data_dir and database_url need a restart.'),
        debounce_ms: z.number().int().min(10).max(10000).default(250).describe('Quiet time after the last change before a reload, so an editor\'s several writes count as one.'),
      })
      .prefault({})
      .describe('Hot reload of config/.'),
    receipts: z
      .strictObject({
        checkpoint_seconds: z.number().int().min(1).max(86400).default(60).describe('GET /receipts/checkpoint signs the chain head at most this often (per node); between signatures it hands out the latest.'),
      })
      .prefault({})
      .describe('The receipt chain (audit records): signed checkpoints. `consulate audit verify | export | checkpoint` work on it.'),
    keys: z
      .strictObject({
        activation_delay_seconds: z
          .number()
          .int()
          .min(0)
          .max(7 * 86400)
          .default(600)
          .describe('How long `consulate keys rotate` publishes a new key before it signs, so verifiers refresh their JWKS first.'),
        reload_seconds: z.number().min(0.05).max(3600).default(10).describe('How often a running server re-reads the key set (picks up rotations).'),
        jwks_max_age_seconds: z.number().int().min(0).max(86400).default(300).describe('Cache-Control max-age of the JWKS response.'),
      })
      .prefault({})
      .describe('Signing keys.'),
    client_assertions: z
      .strictObject({
        max_lifetime_seconds: seconds('Longest accepted private_key_jwt assertion lifetime (exp - now, and exp - iat).', 300, 3600),
        clock_skew_seconds: z.number().int().min(0).max(300).default(30).describe('Tolerated clock difference for assertion times.'),
      })
      .prefault({})
      .describe('private_key_jwt client assertions (RFC 7523).'),
    http: z
      .strictObject({
        max_body_bytes: z.number().int().min(256).max(1048576).default(16384).describe('Largest accepted request body.'),
        upstream_timeout_ms: z.number().int().min(100).max(30000).default(5000).describe('Timeout for outbound requests (client jwks_uri, upstream IdPs).'),
        request_timeout_ms: z.number().int().min(1000).max(300000).default(10000).describe('A request (headers and body) must arrive within this; a slower one is answered 408 and its connection closed. Read at start.'),
        headers_timeout_ms: z.number().int().min(1000).max(60000).default(5000).describe('The request headers must arrive within this (at most request_timeout_ms). Read at start.'),
        keep_alive_timeout_ms: z.number().int().min(0).max(60000).default(5000).describe('An idle keep-alive connection is closed after this. Read at start.'),
        max_connections_per_address: z.number().int().min(1).max(100000).default(256).describe('Open connections one source address may hold (the socket\'s address, never X-Forwarded-For); more are closed at once. Read at start.'),
        trust_proxy: z
          .array(z.string().refine(isAddressOrCidr, 'an IP address or a CIDR block (10.0.0.0/8, fd00::/8)'))
          .default([])
          .describe('Reverse proxies (IP addresses or CIDR blocks) whose X-Forwarded-For is believed for rate limits: when the socket\'s peer is one of them, the source address is the right-most X-Forwarded-For entry that is not. Empty: X-Forwarded-For is ignored.'),
      })
      .prefault({})
      .describe('HTTP limits.'),
    rate_limits: z
      .strictObject({
        client_auth_failures: rateLimit('Failed client authentications (token, introspection, revocation, PAR, CIBA, device authorization) per client_id. Once reached, that client_id is answered 429 before any credential is checked, until the window ends; other clients are unaffected.', 20, 300),
        address_auth_failures: rateLimit('Failed client authentications per source address, whatever client_id they name. Once reached, client authentication from that address is answered 429 before any credential is checked, until the window ends. Higher than client_auth_failures: many clients may share one address (NAT, a proxy not listed in http.trust_proxy).', 50, 300),
        token_requests: rateLimit('Token requests per authenticated client.', 600, 60),
        registrations: rateLimit('Dynamic client registrations (POST /register) per source address, every attempt counted.', 10, 3600),
        device_authorizations: rateLimit('Device authorization requests (POST /device_authorization, RFC 8628) per authenticated client.', 20, 60),
        metadata_document_fetches: rateLimit('Client ID Metadata Document fetches per source address: a request naming a URL client_id that is not cached (or due for a refresh) counts; a cached one does not. Over it the request is answered 429 and nothing is fetched.', 20, 60),
        sign_in_pages: rateLimit('Sign-ins started at an upstream (the redirect to it) per browser (its Consulate browser cookie). Over it the browser gets a 429 page, not a redirect.', 30, 300),
        address_sign_in_pages: rateLimit('Sign-ins started at an upstream per source address, from any browser (also one that sends no cookie). Higher than sign_in_pages: many people may share one address (a company\'s NAT, a proxy not listed in http.trust_proxy).', 600, 300),
        consent_pages: rateLimit('Consent answers (POST /authorize/consent) per browser. Over it the browser gets a 429 page.', 30, 300),
        pat_creations: rateLimit('Personal access tokens created per person (/account/tokens). Over it the person gets a 429 page.', 10, 3600),
        pat_failures: rateLimit('Failed personal access token presentations (unknown, revoked, expired or forged tokens given as subject_token at /token) per source address. Once reached, PATs from that address are answered 429 before any lookup, until the window ends.', 20, 300),
      })
      .prefault({})
      .describe('Rate limits: in memory on SQLite (one node), shared by all nodes on PostgreSQL. Over a limit: 429 temporarily_unavailable with Retry-After. Read at start.'),
    ciba: z
      .strictObject({
        default_expiry_seconds: seconds('How long a backchannel authentication request waits for the person when the client asks no requested_expiry.', 300, 3600),
        max_expiry_seconds: seconds('The longest requested_expiry granted.', 1800, 86400),
        interval_seconds: seconds('The polling interval handed out (grows by 5 s with every slow_down).', 5, 60),
      })
      .prefault({})
      .describe('Client-initiated backchannel authentication (OpenID CIBA Core) and paused agent requests.'),
    device: z
      .strictObject({
        code_ttl_seconds: seconds('Lifetime of a device code and its user code (RFC 8628).', 600, 3600),
        interval_seconds: seconds('The polling interval handed out.', 5, 60),
        user_code_attempts: z.number().int().min(1).max(100).default(5).describe('Wrong user codes a browser session may enter per 10 minutes before it must wait.'),
      })
      .prefault({})
      .describe('Device authorization grant (RFC 8628) for headless agents and CLIs.'),
    approvals: z
      .strictObject({
        webhook: z
          .strictObject({
            url: httpsOrLoopbackUrl.describe('Where a notification is POSTed when a request needs someone\'s approval.'),
            secret: z.string().min(16).describe('Key of the HMAC-SHA-256 signature of each payload (header Consulate-Signature); use a ${env:NAME} reference.'),
            timeout_ms: z.number().int().min(100).max(30000).default(3000).describe('Timeout of each notification.'),
          })
          .optional()
          .describe('Approval notifications (signed JSON) for a mobile app, a chat bot or a mail relay.'),
        max_pending_per_client_and_person: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .describe('Requests one client may have waiting for one person\'s approval (CIBA, paused exchanges); one more is refused with 429 slow_down, so a flood cannot bury a real request or tire the person.'),
        max_pending_per_person: z.number().int().min(1).max(10000).default(20).describe('Requests waiting for one person\'s approval from all clients together; one more is refused likewise.'),
      })
      .prefault({})
      .describe('The approval inbox and its notifications.'),
    dpop: z
      .strictObject({
        iat_window_seconds: z.number().int().min(1).max(300).default(60).describe('How far a DPoP proof\'s iat may be from now, either way; its jti is remembered that long.'),
        nonce_endpoints: z
          .array(z.enum(['token', 'userinfo', 'introspection', 'par']))
          .default([])
          .describe('Endpoints that demand a server nonce in DPoP proofs (RFC 9449 §8): they answer use_dpop_nonce with a DPoP-Nonce header, and every answer carries the next nonce.'),
        nonce_window_seconds: z.number().int().min(10).max(3600).default(300).describe('A nonce is valid for this window and the next.'),
      })
      .prefault({})
      .describe('DPoP (RFC 9449): sender-constrained Passports.'),
    client_id_metadata_documents: clientIdMetadataDocumentsSchema,
    dynamic_registration: dynamicRegistrationSchema,
    branding: brandingSchema,
    metrics: metricsSchema,
    ssf: ssfSchema,
    admin: adminSchema,
    pats: patsSchema,
    welcome: z.string().max(4000).optional().describe('Text printed when the server starts (demo configs use it to list demo credentials).'),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.'),
      })
      .prefault({})
      .describe('Structured JSON logs on stdout.'),
  })
  .describe('Consulate main configuration (config/consulate.yaml).');
