// The store ports services depend on. Async so that a PostgreSQL backend fits the same shape;
// each backend implements them with its own transactions. Times are epoch seconds unless named *Ms.
import type { JWK } from 'jose';

export type KeyRecord = {
  kid: string;
  alg: 'ES256' | 'RS256';
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
  insert(record: KeyRecord): Promise<void>;
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

export type AuditStore = {
  append(record: AuditInput): Promise<AuditRecord>;
  list(options?: { afterSeq?: number; limit?: number }): Promise<AuditRecord[]>;
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

export type SessionRecord = { idHash: string; sub: string; upstreamId: string; claims: Record<string, unknown>; authTime: number; createdAt: number; expiresAt: number };

export type LoginStore = {
  savePending(login: PendingLogin): Promise<void>;
  /** Returns and deletes the pending login (single use); undefined when unknown or expired. */
  takePending(stateHash: string, now: number): Promise<PendingLogin | undefined>;
  saveSession(session: SessionRecord): Promise<void>;
  findSession(idHash: string, now: number): Promise<SessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
  purgeExpired(now: number): Promise<number>;
};

export type Store = {
  readonly keys: KeyStore;
  readonly replay: ReplayStore;
  readonly revocations: RevocationStore;
  readonly audit: AuditStore;
  readonly subjects: SubjectStore;
  readonly logins: LoginStore;
  ping(): Promise<void>;
  close(): Promise<void>;
};
