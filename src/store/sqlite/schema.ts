// Drizzle schema of the embedded SQLite database. Migrations in drizzle/sqlite are generated from it.
import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const signingKeys = sqliteTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  publicJwk: text('public_jwk').notNull(),
  privateJwk: text('private_jwk').notNull(),
  createdAt: integer('created_at').notNull(),
  activatesAt: integer('activates_at').notNull(),
});

export const usedIds = sqliteTable(
  'used_ids',
  {
    scope: text('scope').notNull(),
    id: text('id').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.id] }), index('used_ids_expires').on(t.expiresAt)],
);

export const revokedTokens = sqliteTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    clientId: text('client_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at').notNull(),
  },
  (t) => [index('revoked_tokens_expires').on(t.expiresAt)],
);

export const auditRecords = sqliteTable(
  'audit_records',
  {
    // The chain's position, assigned by the appender (no AUTOINCREMENT: rows are never deleted).
    seq: integer('seq').primaryKey(),
    id: text('id').notNull().unique(),
    atMs: integer('at_ms').notNull(),
    event: text('event').notNull(),
    clientId: text('client_id'),
    subject: text('subject'),
    tokenJti: text('token_jti'),
    details: text('details').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  // The receipts of one delegation (the account page lists them): its did is in the details.
  (t) => [index('audit_records_did').on(sql`json_extract(${t.details}, '$.did')`)],
);

/** A person: one local subject, linked to one or more upstream accounts. */
export const subjects = sqliteTable(
  'subjects',
  {
    sub: text('sub').primaryKey(),
    email: text('email'),
    /** Canonical claims of the latest login, for userinfo and refreshed ID tokens. */
    claims: text('claims'),
    createdAt: integer('created_at').notNull(),
    lastLoginAt: integer('last_login_at').notNull(),
  },
  (t) => [index('subjects_email').on(t.email)],
);

export const upstreamAccounts = sqliteTable(
  'upstream_accounts',
  {
    origIss: text('orig_iss').notNull(),
    origSub: text('orig_sub').notNull(),
    upstreamId: text('upstream_id').notNull(),
    sub: text('sub')
      .notNull()
      .references(() => subjects.sub),
    email: text('email'),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastLoginAt: integer('last_login_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.origIss, t.origSub] }), index('upstream_accounts_sub').on(t.sub)],
);

/** A login sent to an upstream and not yet back: single use, short-lived, bound to the browser. */
export const pendingLogins = sqliteTable(
  'pending_logins',
  {
    stateHash: text('state_hash').primaryKey(),
    browserHash: text('browser_hash').notNull(),
    upstreamId: text('upstream_id').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    returnTo: text('return_to').notNull(),
    acrValues: text('acr_values'),
    maxAge: integer('max_age'),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('pending_logins_expires').on(t.expiresAt)],
);

/** Browser sessions at Consulate; the cookie holds an opaque id, only its hash is stored. */
export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    /** The public session id (`sid` in ID tokens); not the cookie and not derived from it. */
    sid: text('sid').notNull().default(''),
    sub: text('sub').notNull(),
    upstreamId: text('upstream_id').notNull(),
    claims: text('claims').notNull(),
    authTime: integer('auth_time').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_sub').on(t.sub), index('sessions_expires').on(t.expiresAt)],
);

/** Pushed authorization requests (RFC 9126): bound to their client, then to the first browser that presents them, used up once answered; short-lived. */
export const pushedRequests = sqliteTable(
  'pushed_requests',
  {
    idHash: text('id_hash').primaryKey(),
    clientId: text('client_id').notNull(),
    params: text('params').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** SHA-256 of the browser cookie of its first presentation: only that browser may present it again (RFC 9126 §4). */
    browserHash: text('browser_hash'),
    /** When the authorization it started was answered (a code or an error): from then on it is used up. */
    completedAt: integer('completed_at'),
  },
  (t) => [index('pushed_requests_expires').on(t.expiresAt)],
);

/** Validated authorization requests waiting for login or consent, bound to the browser. */
export const authorizationRequests = sqliteTable(
  'authorization_requests',
  {
    idHash: text('id_hash').primaryKey(),
    browserHash: text('browser_hash').notNull(),
    clientId: text('client_id').notNull(),
    request: text('request').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('authorization_requests_expires').on(t.expiresAt)],
);

/** Authorization codes, hashed; `used_at` makes them single use. */
export const authorizationCodes = sqliteTable(
  'authorization_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    clientId: text('client_id').notNull(),
    familyId: text('family_id').notNull(),
    grant: text('grant').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('authorization_codes_expires').on(t.expiresAt)],
);

/** Everything issued from one authorization code; revoked as a whole on code or refresh reuse. */
export const tokenFamilies = sqliteTable(
  'token_families',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    sub: text('sub').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('token_families_sub_client').on(t.sub, t.clientId), index('token_families_expires').on(t.expiresAt)],
);

export const familyPassports = sqliteTable(
  'family_passports',
  {
    familyId: text('family_id').notNull(),
    jti: text('jti').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.familyId, t.jti] }), index('family_passports_expires').on(t.expiresAt)],
);

/** Refresh tokens, hashed; a rotated one keeps its row (used_at) so that its reuse is detected. */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    familyId: text('family_id').notNull(),
    clientId: text('client_id').notNull(),
    grant: text('grant').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('refresh_tokens_family').on(t.familyId), index('refresh_tokens_expires').on(t.expiresAt)],
);

/** What a person has consented to for a client; revocable. */
export const consentGrants = sqliteTable(
  'consent_grants',
  {
    sub: text('sub').notNull(),
    clientId: text('client_id').notNull(),
    scopes: text('scopes').notNull(),
    resources: text('resources').notNull(),
    detailsTypes: text('details_types').notNull(),
    grantedAt: integer('granted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sub, t.clientId] })],
);

/**
 * Delegations: a person's (or service's) authority handed to an actor by token exchange or JWT
 * bearer. Every Passport minted under one carries its id (`did`); revoking it or spending its
 * budget ends them all. Amounts are integers in millionths of the currency unit (no float rounding).
 */
export const delegations = sqliteTable(
  'delegations',
  {
    did: text('did').primaryKey(),
    sub: text('sub').notNull(),
    /** The actor the delegation was made to (the first agent of the chain). */
    clientId: text('client_id').notNull(),
    resource: text('resource'),
    /** What the subject token was: passport, id_token, upstream:<id>, issuer:<id>. */
    origin: text('origin').notNull(),
    rootJti: text('root_jti'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
    revokedBy: text('revoked_by'),
    budgetUses: integer('budget_uses'),
    budgetAmount: integer('budget_amount'),
    budgetCurrency: text('budget_currency'),
    usedUses: integer('used_uses').notNull().default(0),
    usedAmount: integer('used_amount').notNull().default(0),
  },
  (t) => [index('delegations_sub').on(t.sub), index('delegations_client').on(t.clientId), index('delegations_expires').on(t.expiresAt)],
);

/** Which Passport was minted from which (token exchange): revocation follows these links down. */
export const passportLinks = sqliteTable(
  'passport_links',
  {
    jti: text('jti').primaryKey(),
    parentJti: text('parent_jti'),
    did: text('did'),
    clientId: text('client_id').notNull(),
    sub: text('sub').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('passport_links_parent').on(t.parentJti), index('passport_links_did').on(t.did), index('passport_links_expires').on(t.expiresAt)],
);

/** Server-wide secrets shared by every node on this database (the DPoP nonce key). */
export const serverSecrets = sqliteTable('server_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * Requests that wait for people (CIBA, device code, paused token exchange): what will be issued
 * when approved, who must approve, and the polling state. The client holds the auth_req_id (or the
 * device code); only its hash is stored. Survives restarts: nothing about a pending request is in memory.
 */
export const approvalRequests = sqliteTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the auth_req_id / device_code the client polls with. */
    pollHash: text('poll_hash').notNull().unique(),
    /** SHA-256 of the device flow's user code (normalised), when there is one. */
    userCodeHash: text('user_code_hash').unique(),
    kind: text('kind').notNull(),
    clientId: text('client_id').notNull(),
    /** The person represented; unknown for a device code until someone signs in and enters it. */
    sub: text('sub'),
    /** What is asked (scopes, resource, details, binding message, …) and what will be issued. */
    request: text('request').notNull(),
    /** Who must approve: { kind: subject | manager | dual, … } with the people resolved. */
    approvers: text('approvers').notNull(),
    status: text('status').notNull(),
    intervalSeconds: integer('interval_seconds').notNull(),
    lastPolledAt: integer('last_polled_at'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    decidedAt: integer('decided_at'),
  },
  (t) => [index('approval_requests_status').on(t.status, t.expiresAt), index('approval_requests_sub').on(t.sub), index('approval_requests_expires').on(t.expiresAt)],
);

/** One approver's decision on a request; one per person per request. */
export const approvalDecisions = sqliteTable(
  'approval_decisions',
  {
    requestId: text('request_id').notNull(),
    approverSub: text('approver_sub').notNull(),
    approverEmail: text('approver_email'),
    decision: text('decision').notNull(),
    decidedAt: integer('decided_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.approverSub] })],
);

/**
 * Clients not in config/clients/: registered (RFC 7591) or known by their metadata document URL.
 * `client` is the client as Consulate uses it (JSON); a document is refetched after `refresh_at`.
 */
export const dynamicClients = sqliteTable(
  'dynamic_clients',
  {
    clientId: text('client_id').primaryKey(),
    source: text('source').notNull(),
    client: text('client').notNull(),
    refreshAt: integer('refresh_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('dynamic_clients_source').on(t.source)],
);

/**
 * An agent's runtime lifecycle state (active, suspended, retired): set through the CLI (later the
 * account page and the admin API), read by every node on every decision; it wins over the `state:`
 * of the agent's config file, except that a file saying retired stays retired.
 */
export const agentStates = sqliteTable(
  'agent_states',
  {
    clientId: text('client_id').primaryKey(),
    state: text('state').notNull(),
    changedAt: integer('changed_at').notNull(),
    /** Who changed it: operator:cli:<os user>, or the person or operator client of a later API. */
    changedBy: text('changed_by').notNull(),
  },
  (t) => [check('agent_states_state', sql`${t.state} in ('active', 'suspended', 'retired')`)],
);

/**
 * SSF event streams (OpenID Shared Signals 1.0): one receiver's configuration of what it gets and
 * how. `delivery` is JSON ({ method, endpointUrl, authorizationHeader }); the events lists are JSON
 * arrays. Receipts up to `from_seq` came before the stream and are never sent on it.
 */
export const ssfStreams = sqliteTable(
  'ssf_streams',
  {
    id: text('id').primaryKey(),
    receiver: text('receiver').notNull(),
    audience: text('audience').notNull(),
    /** push or poll: what `delivery` says, as a column the push loop selects on. */
    method: text('method').notNull(),
    delivery: text('delivery').notNull(),
    eventsRequested: text('events_requested'),
    eventsDelivered: text('events_delivered').notNull(),
    description: text('description'),
    status: text('status').notNull(),
    statusReason: text('status_reason'),
    fromSeq: integer('from_seq').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('ssf_streams_receiver').on(t.receiver), check('ssf_streams_status', sql`${t.status} in ('enabled', 'paused', 'disabled')`)],
);

/**
 * The outbox of every stream: SETs waiting to be pushed or polled, as claims (signed when sent).
 * A node claims due rows until `claimed_until_ms`, so no two nodes push one SET at once.
 */
export const ssfEvents = sqliteTable(
  'ssf_events',
  {
    jti: text('jti').primaryKey(),
    streamId: text('stream_id')
      .notNull()
      .references(() => ssfStreams.id, { onDelete: 'cascade' }),
    claims: text('claims').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAtMs: integer('next_attempt_at_ms').notNull(),
    claimedUntilMs: integer('claimed_until_ms'),
  },
  (t) => [index('ssf_events_due').on(t.streamId, t.nextAttemptAtMs), index('ssf_events_created').on(t.createdAtMs)],
);

/** How far the SSF feed has read the receipt chain: one row (`id` = 'receipts'). */
export const ssfFeed = sqliteTable('ssf_feed', {
  id: text('id').primaryKey(),
  position: integer('position').notNull(),
});

/**
 * Personal access tokens (src/pats/): a person's long-lived token for developer tools, stored only as
 * a keyed hash (HMAC-SHA-256 under a server secret) of the whole token; `id` is its public name (list,
 * revoke). Scopes are space-separated. Revoked rows are kept until they expire, for the list.
 */
export const personalAccessTokens = sqliteTable(
  'personal_access_tokens',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    sub: text('sub').notNull(),
    name: text('name').notNull(),
    resource: text('resource').notNull(),
    scopes: text('scopes').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('personal_access_tokens_sub').on(t.sub), index('personal_access_tokens_expires').on(t.expiresAt)],
);
