// The store ports services depend on. Async so that a PostgreSQL backend fits the same shape;
// each backend implements them with its own transactions. Times are epoch seconds unless named *Ms.
import type { JWK } from 'jose';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ApprovalStore } from './ports-approvals.ts';
import type { SsfStore } from './ports-ssf.ts';

export type KeyRecord = {
  kid: string;
  alg: 'ES256' | 'RS256' | 'EdDSA';
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: number;
  /** The key signs from this time on; before it, it is only published. */
  activatesAt: number;
};

export type AuditInput = {
  id: string;
  atMs: number;
  event: string;
  clientId?: string | undefined;
  subject?: string | undefined;
  tokenJti?: string | undefined;
  details: Record<string, unknown>;
};

export type AuditRecord = AuditInput & { seq: number; prevHash: string; hash: string };

export type KeyStore = {
  list(): Promise<KeyRecord[]>;
  /**
   * Stores the key; true when stored. With `onlyIfNoneActive`, atomically stores it only when no key of
   * its alg signs at its activatesAt yet: of several nodes creating a first key at once, one wins.
   */
  insert(record: KeyRecord, options?: { onlyIfNoneActive?: boolean }): Promise<boolean>;
};

export type ReplayStore = {
  /** Records `id` in `scope` until `expiresAt`; false when it was already used (a replay). */
  useOnce(scope: string, id: string, expiresAt: number, now: number): Promise<boolean>;
  purgeExpired(now: number): Promise<number>;
};

export type RevocationStore = {
  revoke(jti: string, clientId: string, expiresAt: number, now: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  purgeExpired(now: number): Promise<number>;
};

/** A record as stored: its details as the exact canonical JSON text that was hashed. */
export type ChainedRecord = Omit<AuditRecord, 'details'> & { detailsJson: string };

export type AuditStore = {
  append(record: AuditInput): Promise<AuditRecord>;
  list(options?: { afterSeq?: number; limit?: number }): Promise<AuditRecord[]>;
  /** The last record's position and hash (what a checkpoint signs); undefined for an empty chain. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
  /** Records after `afterSeq` in chain order, as stored (no parsing): what a verifier walks. */
  chainPage(options: { afterSeq: number; limit: number }): Promise<ChainedRecord[]>;
  /** One receipt by its id. */
  find(id: string): Promise<AuditRecord | undefined>;
  /** The newest receipts (at most `limit`) whose details name this delegation (`did`), newest first. */
  listByDid(did: string, limit: number): Promise<AuditRecord[]>;
};

export type LoginLink = {
  origIss: string;
  origSub: string;
  upstreamId: string;
  /** Only a verified e-mail is passed here; unverified ones never reach the store. */
  verifiedEmail?: string | undefined;
  /** The operator allows linking a first login to an existing person by verified e-mail. */
  linkByEmail: boolean;
  newSub: string;
  now: number;
};

export type LinkedSubject = { sub: string; linkedBy: 'account' | 'verified_email' | 'new_person' };

export type UpstreamAccountRecord = { origIss: string; origSub: string; upstreamId: string; sub: string; email?: string | undefined; firstSeenAt: number; lastLoginAt: number };

export type SubjectStore = {
  /** Finds or creates the person for an upstream account, atomically. */
  linkLogin(link: LoginLink): Promise<LinkedSubject>;
  accountsOf(sub: string): Promise<UpstreamAccountRecord[]>;
  /** Keeps the canonical claims of the person's latest login (userinfo, refreshed ID tokens). */
  saveClaims(sub: string, claims: Record<string, unknown>): Promise<void>;
  claimsOf(sub: string): Promise<Record<string, unknown> | undefined>;
  /** Whether this person exists. */
  exists(sub: string): Promise<boolean>;
  /** The one person whose verified e-mail (at linking, or in the canonical claims) this is, lowercased; undefined for none or several. */
  findByEmail(email: string): Promise<string | undefined>;
};

export type PendingLogin = {
  stateHash: string;
  browserHash: string;
  upstreamId: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  acrValues?: string | undefined;
  maxAge?: number | undefined;
  expiresAt: number;
};

export type SessionRecord = { idHash: string; sid: string; sub: string; upstreamId: string; claims: Record<string, unknown>; authTime: number; createdAt: number; expiresAt: number };

export type LoginStore = {
  savePending(login: PendingLogin): Promise<void>;
  /** Returns and deletes the pending login (single use); undefined when unknown or expired. */
  takePending(stateHash: string, now: number): Promise<PendingLogin | undefined>;
  saveSession(session: SessionRecord): Promise<void>;
  findSession(idHash: string, now: number): Promise<SessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** A person's live sessions, newest first (the admin API). */
  sessionsOf(sub: string, now: number): Promise<SessionRecord[]>;
  /** Ends the person's session `sid`: the ended session, or undefined when there was none. */
  endSessionOf(sub: string, sid: string): Promise<SessionRecord | undefined>;
  purgeExpired(now: number): Promise<number>;
};

export type PushedRequest = { idHash: string; clientId: string; params: Record<string, string | string[]>; expiresAt: number };

/** What presenting a request_uri found: its request, or why not (unknown, past expiry, answered, another browser's, another client's). */
export type PushedPresentation = { status: 'ok'; request: PushedRequest } | { status: 'unknown' | 'expired' | 'completed' | 'other_browser' | 'other_client' };

/** A validated authorization request waiting for login or consent; `request` is the service's own shape. */
export type PendingAuthorization = { idHash: string; browserHash: string; clientId: string; request: Record<string, unknown>; createdAt: number; expiresAt: number };

/** What a code or refresh token stands for; the grant services own its shape. */
export type IssuedGrant = Record<string, unknown>;

export type CodeRecord = { codeHash: string; clientId: string; familyId: string; grant: IssuedGrant; expiresAt: number };

export type TokenFamily = { id: string; clientId: string; sub: string; createdAt: number; expiresAt: number };

export type RefreshRecord = {
  tokenHash: string;
  familyId: string;
  clientId: string;
  grant: IssuedGrant;
  createdAt: number;
  expiresAt: number;
  /** When it was rotated (spent): set on a token that has a successor. */
  usedAt?: number | undefined;
};

export type Redemption<T> = { status: 'first'; record: T } | { status: 'reused'; record: T } | { status: 'unknown' };

export type AuthorizationStore = {
  savePushed(request: PushedRequest): Promise<void>;
  /**
   * A browser presents a request_uri, decided atomically: the first presentation binds the pushed
   * request to that browser, which may present it again until it is completed or expires (RFC 9126
   * §4); another browser is refused; another client uses it up (it is completed).
   */
  presentPushed(idHash: string, clientId: string, browserHash: string, now: number): Promise<PushedPresentation>;
  /** The authorization it started was answered: used up from now on. False when it already was (for exactly one caller, true). */
  completePushed(idHash: string, now: number): Promise<boolean>;
  saveRequest(request: PendingAuthorization): Promise<void>;
  findRequest(idHash: string, now: number): Promise<PendingAuthorization | undefined>;
  /** Deletes the pending request; true for exactly one caller (the one that answers it). */
  deleteRequest(idHash: string): Promise<boolean>;
  saveCode(code: CodeRecord): Promise<void>;
  /** Reads a code without marking it used (used or not); undefined when unknown or expired. */
  findCode(codeHash: string, now: number): Promise<CodeRecord | undefined>;
  /** Marks the code used, atomically: exactly one caller ever sees `first`. Expired codes are `unknown`. */
  redeemCode(codeHash: string, now: number): Promise<Redemption<CodeRecord>>;
  purgeExpired(now: number): Promise<number>;
};

export type FamilyStore = {
  createFamily(family: TokenFamily): Promise<void>;
  /** Records a Passport of the family; if the family is already revoked, the Passport is revoked at once. */
  addPassport(familyId: string, jti: string, expiresAt: number, now: number): Promise<void>;
  /** Revokes the family: its refresh tokens stop working and its Passports are revoked. */
  revokeFamily(familyId: string, now: number): Promise<void>;
  revokeFamiliesOf(sub: string, clientId: string, now: number): Promise<number>;
  isRevoked(familyId: string, now: number): Promise<boolean>;
  saveRefresh(token: RefreshRecord): Promise<void>;
  /** Marks the refresh token used (rotation), atomically: exactly one caller sees `first`. */
  rotateRefresh(tokenHash: string, now: number): Promise<Redemption<RefreshRecord>>;
  findRefresh(tokenHash: string, now: number): Promise<RefreshRecord | undefined>;
  purgeExpired(now: number): Promise<number>;
};

export type ConsentRecord = { sub: string; clientId: string; scopes: string[]; resources: string[]; detailsTypes: string[]; grantedAt: number };

export type ConsentStore = {
  find(sub: string, clientId: string): Promise<ConsentRecord | undefined>;
  save(consent: ConsentRecord): Promise<void>;
  list(sub: string): Promise<ConsentRecord[]>;
  /** Forgets the consent; true when there was one. */
  revoke(sub: string, clientId: string): Promise<boolean>;
};

/** Amounts are integers in millionths of the currency unit. */
export type DelegationBudget = { uses?: number | undefined; amountMicros?: number | undefined; currency?: string | undefined };

export type DelegationRecord = {
  did: string;
  sub: string;
  /** The actor the delegation was made to. */
  clientId: string;
  resource?: string | undefined;
  /** passport, id_token, upstream:<id>, issuer:<id>. */
  origin: string;
  rootJti?: string | undefined;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number | undefined;
  revokedBy?: string | undefined;
  budget?: DelegationBudget | undefined;
  used: { uses: number; amountMicros: number };
};

export type Usage = {
  uses: number;
  amountMicros: number;
  currency?: string | undefined;
  /** The reporter's id of this usage: counted once per delegation; a repeat is `duplicate` and adds nothing. */
  usageId?: string | undefined;
};

export type Consumption =
  | { status: 'ok' | 'duplicate'; record: DelegationRecord }
  | { status: 'exceeded'; record: DelegationRecord }
  | { status: 'revoked' | 'unknown' | 'currency_mismatch' };

/** A delegation as it is created (its use counters start at zero). */
export type NewDelegation = Omit<DelegationRecord, 'revokedAt' | 'revokedBy' | 'used'>;

export type DelegationStore = {
  create(record: NewDelegation): Promise<void>;
  find(did: string): Promise<DelegationRecord | undefined>;
  /** Revokes the delegation and every Passport minted under it; false when unknown or already revoked. */
  revoke(did: string, by: string, now: number): Promise<boolean>;
  /** Live (unexpired) delegations, newest first: of a person, or made to some clients, or all. */
  list(filter: { sub?: string; clientIds?: readonly string[]; limit?: number }, now: number): Promise<DelegationRecord[]>;
  /** Adds usage atomically: never past the budget (all or nothing), never on a revoked or spent delegation. */
  consume(did: string, usage: Usage, now: number): Promise<Consumption>;
  purgeExpired(now: number): Promise<number>;
};

export type PassportLink = { jti: string; parentJti?: string | undefined; did?: string | undefined; clientId: string; sub: string; expiresAt: number };

export type LineageStore = {
  /**
   * Records a Passport minted from another or under a delegation; it is revoked at once if its parent
   * or delegation already is. `started`: the delegation this Passport starts, created in the same
   * transaction (a token exchange writes both or neither).
   */
  record(link: PassportLink, now: number, started?: NewDelegation): Promise<void>;
  /** Revokes everything minted from these Passports, all the way down; returns how many were revoked. */
  revokeDescendants(jtis: readonly string[], now: number): Promise<number>;
  /**
   * The delegations a revocation of these Passports (or of every Passport of these families) ended
   * as a whole: those whose first Passport is one of them or minted from them, all the way down.
   */
  delegationsUnder(roots: { jtis?: readonly string[]; familyIds?: readonly string[] }): Promise<DelegationRecord[]>;
};

export type { ApprovalKind, ApprovalStatus, ApproverRule, ApprovalDecision, ApprovalRecord, NewApproval, Poll, Decided, InboxApprover, InboxPosition, InboxQuery, InboxPage, PendingLimits, ApprovalStore, ApprovalCounts } from './ports-approvals.ts';

export type SecretStore = {
  /** The secret named `name`; the first caller's `value` wins, so every node ends up with the same one. */
  getOrCreate(name: string, value: string, now: number): Promise<string>;
};

/** A client not in config/clients/: self-registered (RFC 7591) or named by its metadata document URL. */
export type DynamicClientRecord = {
  clientId: string;
  source: 'registration' | 'document';
  /** The client as Consulate uses it (a config client's shape, as JSON). */
  client: Record<string, unknown>;
  /** Documents: refetch after this time. */
  refreshAt?: number | undefined;
  createdAt: number;
  updatedAt: number;
};

export type DynamicClientStore = {
  find(clientId: string): Promise<DynamicClientRecord | undefined>;
  /** Inserts or replaces (a refetched document). */
  save(record: DynamicClientRecord): Promise<void>;
  /** Registers a new client unless `max` clients of that source exist; false when full. */
  register(record: DynamicClientRecord, max: number): Promise<boolean>;
};

/** An agent's lifecycle: suspended and retired agents get nothing; retirement is final. */
export type AgentState = 'active' | 'suspended' | 'retired';

/** An agent's runtime state, set over the CLI (later the account page and admin API); it wins over config's `state:`. */
export type AgentStateRecord = { clientId: string; state: AgentState; changedAt: number; changedBy: string };

export type AgentStateStore = {
  find(clientId: string): Promise<AgentStateRecord | undefined>;
  /** The records of these agents (those that have one), in one query. */
  findMany(clientIds: readonly string[]): Promise<AgentStateRecord[]>;
  list(): Promise<AgentStateRecord[]>;
  /**
   * Sets the state in one statement, unless the stored state is already `retired` (final, even when
   * a resume and a retirement race): false then, and nothing changed.
   */
  set(record: AgentStateRecord): Promise<boolean>;
};

/** A person's personal access token as stored: never the token, only its keyed hash (src/pats/). */
export type PatRecord = {
  /** Its public name (list, revoke, receipts), not a secret. */
  id: string;
  tokenHash: string;
  sub: string;
  /** The person's label for it. */
  name: string;
  resource: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt?: number | undefined;
  revokedAt?: number | undefined;
};

export type PatStore = {
  /** Stores it unless the person already has `maxLive` unexpired, unrevoked tokens (checked in the same transaction): false then. */
  create(record: Omit<PatRecord, 'lastUsedAt' | 'revokedAt'>, maxLive: number, now: number): Promise<boolean>;
  /** By keyed hash, revoked or expired ones included (the caller decides). */
  findByHash(tokenHash: string): Promise<PatRecord | undefined>;
  /** The person's tokens not yet expired (revoked ones too), newest first. */
  list(sub: string, now: number): Promise<PatRecord[]>;
  /** Revokes it if it is this person's (any person's when `sub` is undefined) and not yet revoked: the revoked record, else undefined. */
  revoke(id: string, sub: string | undefined, now: number): Promise<PatRecord | undefined>;
  /** Sets last used to `now` unless it was set less than `everySeconds` ago: at most one write per token per interval. */
  touch(id: string, now: number, everySeconds: number): Promise<void>;
  purgeExpired(now: number): Promise<number>;
};

export type { SsfDelivery, SsfStreamStatus, SsfStreamRecord, SsfEventRecord, SsfStore } from './ports-ssf.ts';

export type RateLimiterOptions = { keyPrefix: string; points: number; duration: number };

/** Told by the store as it works, for metrics (the store imports no metrics code): each group commit's size and duration. */
export type StoreObserver = { commit(batchSize: number, seconds: number): void };

/** A connection pool right now (PostgreSQL): connections open, of them idle, and queries waiting for one. */
export type PoolStats = { total: number; idle: number; waiting: number };

export type Store = {
  readonly keys: KeyStore;
  readonly replay: ReplayStore;
  readonly revocations: RevocationStore;
  readonly audit: AuditStore;
  readonly subjects: SubjectStore;
  readonly logins: LoginStore;
  readonly authorizations: AuthorizationStore;
  readonly families: FamilyStore;
  readonly consents: ConsentStore;
  readonly delegations: DelegationStore;
  readonly lineage: LineageStore;
  readonly secrets: SecretStore;
  readonly approvals: ApprovalStore;
  readonly dynamicClients: DynamicClientStore;
  readonly agentStates: AgentStateStore;
  readonly ssf: SsfStore;
  readonly pats: PatStore;
  /**
   * Rate limit counters shared by every node of this database (PostgreSQL). Absent: the store serves
   * one node (SQLite) and the limits count in memory.
   */
  readonly createRateLimiter?: (options: RateLimiterOptions) => Promise<RateLimiterAbstract>;
  /** PostgreSQL: the pool's state, read when metrics are scraped. */
  readonly poolStats?: () => PoolStats;
  ping(): Promise<void>;
  close(): Promise<void>;
};
