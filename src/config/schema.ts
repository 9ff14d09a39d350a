// Zod schemas of every config file but the main one (main-schema.ts, re-exported here): defaults
// and one doc line per key (the doc lines become the JSON Schema descriptions editors show). Shapes
// only; cross-references are checked in cross-check.ts.
import { z } from 'zod';
import { mainConfigSchema } from './main-schema.ts';
import { absoluteUri, httpsOrLoopbackUrl, scopeToken } from './values.ts';
import { clientGrantTypes } from '../oauth/grant-types.ts';

export { mainConfigSchema };

const jwk = z.looseObject({
  kty: z.string().describe('Key type (RFC 7517): EC, RSA or OKP.'),
  kid: z.string().optional().describe('Key id; assertions name it in their header.'),
  alg: z.string().optional().describe('Algorithm the key is used with, e.g. ES256.'),
  use: z.string().optional().describe('sig for signature keys.'),
});

export const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type AuthMethod = (typeof authMethods)[number];

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
    state: z.enum(['active', 'suspended', 'retired']).default('active').describe('Agents: the declared default lifecycle state; suspended or retired agents get no tokens and their Passports introspect inactive. `consulate agent suspend|resume|retire` set the state in the database instead (every node applies it at once), which then wins over this value, except that retired here is final.'),
    delegation: delegationSchema.optional(),
    name: z.string().max(200).optional().describe('Human-readable name, shown on pages and in logs.'),
    token_endpoint_auth_method: z
      .enum(authMethods)
      .describe('The one way this client authenticates at the token, introspection and revocation endpoints; none for a public client (browser or native app: PKCE only).'),
    secret_hash: z
      .string()
      .optional()
      .describe('Hash of the client secret (from `consulate secret generate` or `consulate secret hash`); may be a ${env:NAME} reference. Never the secret itself.'),
    jwks: z.strictObject({ keys: z.array(jwk).min(1).describe('The public keys (JWK), at least one.') }).optional().describe('Public keys for private_key_jwt.'),
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
    jwks: z.strictObject({ keys: z.array(jwk).min(1).describe('The public keys (JWK), at least one.') }).optional().describe('Its public keys.'),
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
