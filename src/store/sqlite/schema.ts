// Drizzle schema of the embedded SQLite database. Migrations in drizzle/sqlite are generated from it.
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
    seq: integer('seq').primaryKey({ autoIncrement: true }),
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
  (t) => [index('audit_records_jti').on(t.tokenJti)],
);

/** A person: one local subject, linked to one or more upstream accounts. */
export const subjects = sqliteTable(
  'subjects',
  {
    sub: text('sub').primaryKey(),
    email: text('email'),
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
    sub: text('sub').notNull(),
    upstreamId: text('upstream_id').notNull(),
    claims: text('claims').notNull(),
    authTime: integer('auth_time').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_sub').on(t.sub), index('sessions_expires').on(t.expiresAt)],
);
