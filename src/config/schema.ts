// Zod schemas of every config file: defaults and one doc line per key (the doc lines become the
// JSON Schema descriptions editors show). Shapes only; cross-references are checked in cross-check.ts.
import { isIP } from 'node:net';
import { z } from 'zod';

import { absoluteUri, httpsOrLoopbackUrl, scopeToken, seconds } from './values.ts';
import { clientIdMetadataDocumentsSchema, dynamicRegistrationSchema } from './open-clients-schema.ts';

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
    welcome: z.string().max(4000).optional().describe('Text printed when the server starts (demo configs use it to list demo credentials).'),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.'),
      })
      .prefault({})
      .describe('Structured JSON logs on stdout.'),
  })
  .describe('Consulate main configuration (config/consulate.yaml).');

const jwk = z.looseObject({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional(), use: z.string().optional() });

export const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type AuthMethod = (typeof authMethods)[number];

export const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const cibaGrant = 'urn:openid:params:grant-type:ciba';
export const deviceCodeGrant = 'urn:ietf:params:oauth:grant-type:device_code';
export const clientGrantTypes = ['client_credentials', 'authorization_code', 'refresh_token', tokenExchangeGrant, jwtBearerGrant, cibaGrant, deviceCodeGrant] as const;

/** A budget: uses and/or an amount in one currency. Amounts are decimal strings (no float rounding). */
export const budgetSchema = z
  .strictObject({
    uses: z.number().int().min(1).max(1_000_000_000).optional().describe('How many uses resource servers may report.'),
    amount: z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, 'a decimal amount like "100" or "12.50" (at most 9 digits before the point, 6 after)').optional().describe('The most that may be spent, as a decimal string.'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code').optional().describe('Currency of amount (ISO 4217).'),
  })
  .refine((b) => b.uses !== undefined || b.amount !== undefined, 'give uses, amount or both')
  .refine((b) => (b.amount === undefined) === (b.currency === undefined), 'amount and currency go together');
export type Budget = z.output<typeof budgetSchema>;

const delegationSchema = z
  .strictObject({
    act_for: z
      .strictObject({
        anyone: z.boolean().default(false).describe('Any person may be represented (still bounded by scopes and resources).'),
        people: z.array(z.string().min(1).max(320)).default([]).describe('People it may act for: their canonical e-mail or local subject id.'),
        groups: z.array(z.string().min(1).max(200)).default([]).describe('Groups (canonical claim `groups`) whose members it may act for.'),
        clients: z.array(z.string().min(1)).default([]).describe('Clients (services) it may act for, when the subject token is a client\'s own Passport.'),
      })
      .prefault({})
      .describe('Whom this client may act for. Empty: nobody.'),
    subject_token_clients: z.array(z.string().min(1)).default([]).describe('Clients whose Passports and ID tokens it may exchange, besides its own.'),
    subject_token_audiences: z
      .array(absoluteUri)
      .default([])
      .describe('Resources (this service\'s own, as a resource server or MCP server) whose Passports it may exchange, whichever client they were issued to: to call downstream on the person\'s behalf.'),
    subject_token_upstreams: z.array(z.string().min(1)).default([]).describe('Upstreams (trusted for exchange) whose tokens it may exchange.'),
    jwt_bearer_issuers: z.array(z.string().min(1)).default([]).describe('Trusted issuers (config/issuers/) whose assertions and ID-JAGs it may present (RFC 7523).'),
    max_chain: z.number().int().min(1).max(10).default(1).describe('Longest actor chain (number of nested act entries) a Passport it is part of may carry.'),
    max_ttl_seconds: z.number().int().min(1).max(86400).optional().describe('Longest lifetime of a Passport it gets (never longer than the subject token).'),
    dpop: z.enum(['required', 'optional']).default('optional').describe('required: no Bearer Passports for it (sender-constrained only).'),
    subject_token_binding: z
      .enum(['holder', 'any'])
      .default('holder')
      .describe('holder: a DPoP-bound subject token is exchanged only with a proof by its key; any: by this client with its own key (for an agent that is handed bound tokens on purpose).'),
    id_jag_audiences: z
      .record(
        httpsOrLoopbackUrl,
        z.strictObject({
          client_id: z.string().min(1).describe('This client\'s id at that authorization server (the ID-JAG\'s client_id).'),
          scopes: z.array(scopeToken).default([]).describe('Scopes it may ask of that authorization server.'),
          resources: z.array(absoluteUri).default([]).describe('Resources at that authorization server it may name.'),
        }),
      )
      .default({})
      .describe('Other authorization servers (by issuer) it may get ID-JAGs for.'),
  })
  .describe('Delegation policy: whom it may act for and what it may ask for in their name.');

/** Redirect URIs: absolute, no fragment (RFC 6749 §3.1.2); http only for loopback (RFC 8252 §7.3), or a private-use scheme (§7.1). */
export const redirectUri = z.string().max(2000).refine((value) => {
  try {
    const url = new URL(value);
    // Matched exactly, so a `*` can only be a mistake or a trap (https://*.evil.example/cb).
    if (url.hash || value.includes('#') || value.includes('*') || url.username || url.password) return false;
    if (url.protocol === 'https:') return true;
    if (url.protocol === 'http:') return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol);
  } catch {
    return false;
  }
}, 'must be an https URL (http only for loopback), or a private-use scheme like com.example.app:/callback, without fragment, userinfo or wildcard');

export const clientSchema = z
  .strictObject({
    client_id: z.string().min(1).max(200).regex(/^[\x21-\x7E]+$/, 'must be printable ASCII without spaces').describe('The client identifier.'),
    kind: z.enum(['client', 'agent']).default('client').describe('agent: an AI agent with an owner, a lifecycle state and a delegation policy.'),
    owner: z.string().min(3).max(320).optional().describe('Agents: the e-mail (canonical claim email) of the person who owns it; they may revoke its delegations.'),
    state: z.enum(['active', 'suspended', 'retired']).default('active').describe('Agents: suspended or retired agents get no tokens and their Passports introspect inactive. Change with `consulate agent suspend|resume|retire`.'),
    delegation: delegationSchema.optional(),
    name: z.string().max(200).optional().describe('Human-readable name, shown on pages and in logs.'),
    token_endpoint_auth_method: z
      .enum(authMethods)
      .describe('The one way this client authenticates at the token, introspection and revocation endpoints; none for a public client (browser or native app: PKCE only).'),
    secret_hash: z
      .string()
      .optional()
      .describe('Hash of the client secret (from `consulate secret generate` or `consulate secret hash`); may be a ${env:NAME} reference. Never the secret itself.'),
    jwks: z.strictObject({ keys: z.array(jwk).min(1) }).optional().describe('Public keys for private_key_jwt.'),
    jwks_uri: httpsOrLoopbackUrl.optional().describe('URL of the public keys for private_key_jwt.'),
    grant_types: z.array(z.enum(clientGrantTypes)).default(['client_credentials']).describe('Grants this client may use (empty for a resource server that only introspects).'),
    redirect_uris: z.array(redirectUri).default([]).describe('Where /authorize may send the browser back, matched exactly (for http://127.0.0.1 and http://[::1] any port, RFC 8252 §7.3).'),
    post_logout_redirect_uris: z.array(redirectUri).default([]).describe('Where RP-initiated logout may send the browser afterwards, matched exactly.'),
    require_par: z.boolean().default(false).describe('Accept authorization requests from this client only through PAR (RFC 9126).'),
    request_object_profile: z
      .enum(['standard', 'fapi2'])
      .default('standard')
      .describe('Rules for this client\'s request objects. fapi2 (FAPI 2.0 Message Signing): nbf is required and at most 60 minutes old, and exp at most 60 minutes after nbf.'),
    backchannel_token_delivery_mode: z.enum(['poll', 'ping']).default('poll').describe('CIBA: poll, or ping (Consulate notifies backchannel_client_notification_endpoint, then the client fetches the tokens).'),
    backchannel_client_notification_endpoint: httpsOrLoopbackUrl.optional().describe('CIBA ping mode: where Consulate POSTs {auth_req_id} with the client_notification_token as Bearer.'),
    dpop_bound_access_tokens: z.boolean().default(false).describe('Every Passport and refresh token of this client is DPoP-bound (RFC 9449 §5.2): token requests without a DPoP proof are refused.'),
    refresh_reuse_grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(0)
      .describe('Opt-in: for this many seconds after a refresh token is rotated, this client presenting it again (a retry after a lost response) gets a fresh successor instead of losing the whole family. 0: every reuse revokes the family (RFC 9700 §4.14.2).'),
    require_resource: z.boolean().default(false).describe('Every authorization and token request must name its resource (RFC 8707), as MCP clients do; no default resource.'),
    skip_consent: z.boolean().default(false).describe('A first-party app: people are never asked to consent for it (prompt=consent still asks).'),
    id_token_signed_response_alg: z.enum(['RS256', 'ES256']).default('RS256').describe('Algorithm of this client\'s ID tokens and JARM responses.'),
    resources: z
      .record(
        absoluteUri,
        z.strictObject({
          scopes: z.array(scopeToken).default([]).describe('Scopes of this resource the client may ask for.'),
          authorization_details_types: z.array(z.string()).default([]).describe('RAR (RFC 9396) types of this resource the client may ask for.'),
          actions: z.record(z.string(), z.array(z.string().min(1)).max(50)).default({}).describe('Per RAR type, the actions it may ask for. A type not listed: any action its schema allows.'),
          budget: budgetSchema.optional().describe('Budget of a delegation it starts for this resource (token exchange, JWT bearer).'),
        }),
      )
      .default({})
      .describe('Resources (RFC 8707) this client may get Passports for, keyed by resource identifier.'),
    default_resource: absoluteUri.optional().describe('Resource used when a request names none. Default: the only resource, if there is exactly one.'),
    introspects: z.array(absoluteUri).default([]).describe('Resources whose Passports this client (a resource server) may introspect.'),
    claims: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a canonical claim name'))
      .optional()
      .describe('Canonical claims this client receives. ID tokens and userinfo: only the listed standard claims of the granted scopes, plus the listed other canonical claims (roles, tenant, …). Passports of people: provenance plus the listed claims. Absent: standard claims by scope; Passports carry provenance only.'),
  })
  .describe('A client (config/clients/*.yaml, one per file).');

export const resourceSchema = z
  .strictObject({
    resource: absoluteUri.describe('Resource identifier (RFC 8707): the Passport audience.'),
    name: z.string().max(200).optional().describe('Human-readable name.'),
    passport_ttl_seconds: z.number().int().min(1).max(86400).optional().describe('Passport lifetime for this resource; at most passports.max_ttl_seconds.'),
    scopes: z.record(scopeToken, z.string().describe('What the scope allows, in words.')).default({}).describe('Scopes this resource understands, with a description each.'),
    pins: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.string().min(1).max(200)).optional().describe('Hashes (e.g. schema, plan) copied unchanged into every Passport for this resource, for the resource to compare.'),
    dpop_bound_access_tokens_required: z.boolean().default(false).describe('Only DPoP-bound Passports for this resource (RFC 9728): Bearer issuance for it is refused.'),
    signing_alg: z
      .enum(['ES256', 'RS256', 'EdDSA'])
      .optional()
      .describe('Algorithm of the Passports for this resource (default passports.signing_alg). EdDSA (Ed25519, RFC 8037) is about four times cheaper to sign than ES256; choose it only when the resource server verifies EdDSA.'),
    downstream: z.array(absoluteUri).default([]).describe('Resources its Passports may be exchanged for (service to service, RFC 8693).'),
    authorization_details_types: z
      .record(
        z.string().min(1),
        z.strictObject({
          description: z.string().optional().describe('What this type grants, in words.'),
          schema: z.record(z.string(), z.unknown()).describe('JSON Schema (draft 2020-12 or 7) an authorization_details object of this type must satisfy.'),
        }),
      )
      .default({})
      .describe('RAR (RFC 9396) types this resource accepts.'),
  })
  .describe('A resource server (config/resources/*.yaml, one per file).');

export const upstreamKinds = ['entra', 'okta', 'auth0', 'oidc'] as const;

export const upstreamSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes')
      .describe('Upstream id: used in callback URLs, provenance and mapping rules.'),
    kind: z.enum(upstreamKinds).describe('Preset: entra, okta, auth0, or a generic oidc provider.'),
    name: z.string().max(200).optional().describe('Shown on the login chooser.'),
    issuer: httpsOrLoopbackUrl.describe(
      'Issuer identifier of the upstream OpenID provider (exactly as in its discovery document). For kind entra it may instead be the multi-tenant authority https://login.microsoftonline.com/organizations/v2.0 (or /common/v2.0), whose discovery document announces the {tenantid} issuer template.',
    ),
    client_id: z.string().min(1).describe('Consulate\'s client id at the upstream.'),
    client_secret: z.string().min(1).describe('Consulate\'s client secret at the upstream; use a ${env:NAME} reference.'),
    client_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').describe('How Consulate authenticates at the upstream token endpoint.'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']).describe('Scopes asked of the upstream; must include openid.'),
    email_domains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a domain name')).default([]).describe('E-mail domains routed to this upstream by home-realm discovery.'),
    link_verified_email: z.boolean().default(false).describe('Link a first login to an existing person with the same e-mail, only when this upstream asserts the e-mail is verified.'),
    userinfo: z.boolean().default(false).describe('Also fetch the userinfo endpoint after login.'),
    timeout_ms: z.number().int().min(100).max(30000).optional().describe('Timeout of each request to this upstream. Default: http.upstream_timeout_ms.'),
    mapping: z
      .string()
      .optional()
      .describe('Id of the claims mapping rule set (config/mappings/) for this upstream. Default: the built-in preset of its kind.'),
    exchange: z
      .strictObject({
        id_token_audiences: z.array(z.string().min(1)).default([]).describe('Client ids at the upstream whose ID tokens may be exchanged; Consulate\'s own client_id is always accepted.'),
        access_token_audiences: z.array(z.string().min(1)).default([]).describe('Audiences of the upstream\'s JWT access tokens that may be exchanged (e.g. api://consulate).'),
        introspection: z
          .strictObject({
            endpoint: httpsOrLoopbackUrl.describe('RFC 7662 introspection endpoint of the upstream, for opaque access tokens.'),
            client_id: z.string().min(1).describe('Client id Consulate authenticates with there.'),
            client_secret: z.string().min(1).describe('Its secret; use a ${env:NAME} reference.'),
          })
          .optional()
          .describe('Opaque upstream access tokens are checked here.'),
      })
      .optional()
      .describe('Trust this upstream\'s tokens as subject tokens of token exchange (RFC 8693): verified against its JWKS and mapped through its rule set.'),
    allowed_tenants: z
      .array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'an Entra tenant id (a GUID)'))
      .min(1)
      .optional()
      .describe('Entra multi-tenant authority only: tenant ids (tid) whose people may sign in. Absent: any tenant, so any Entra organisation (and, with /common, personal accounts) can sign in.'),
  })
  .describe('An upstream OpenID provider (config/upstreams/*.yaml, one per file).');

export const issuerSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes').describe('Id of this trusted issuer; clients name it in delegation.jwt_bearer_issuers.'),
    issuer: httpsOrLoopbackUrl.describe('The `iss` of its assertions.'),
    jwks: z.strictObject({ keys: z.array(jwk).min(1) }).optional().describe('Its public keys.'),
    jwks_uri: httpsOrLoopbackUrl.optional().describe('URL of its public keys (exactly one of jwks, jwks_uri).'),
    accepts: z.array(z.enum(['jwt-bearer', 'id-jag'])).min(1).default(['id-jag']).describe('jwt-bearer: RFC 7523 assertions (typ JWT); id-jag: Identity Assertion JWT Authorization Grants (typ oauth-id-jag+jwt).'),
    mapping: z.string().optional().describe('Claims mapping rule set applied to the assertion\'s claims. Default: the built-in oidc preset.'),
    max_lifetime_seconds: z.number().int().min(1).max(3600).default(300).describe('Longest accepted assertion lifetime (exp - iat).'),
  })
  .describe('An issuer whose JWT assertions (RFC 7523) and ID-JAGs are accepted at the token endpoint (config/issuers/*.yaml).');
export type IssuerConfig = z.output<typeof issuerSchema>;

/** Claims a rule can never produce: protocol claims, provenance, and the upstream's authentication facts. */
export const reservedClaims = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'act', 'may_act', 'approval', 'cnf', 'azp', 'client_id', 'scope', 'nonce', 'sid', 'orig_iss', 'orig_sub', 'upstream', 'acr', 'amr', 'auth_time', 'did', 'budget', 'pins', 'receipt', 'authorization_details'] as const;

export type MainConfig = z.output<typeof mainConfigSchema>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type ClientConfig = z.output<typeof clientSchema>;
export type ResourceConfig = z.output<typeof resourceSchema>;

export * from './rules-schema.ts';
