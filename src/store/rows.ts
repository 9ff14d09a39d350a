// Row ↔ record mappings both backends share: the SQLite and PostgreSQL tables have the same
// columns (same names, numbers read as JS numbers), so a row of either becomes the same port record
// here. Pure: no driver, no SQL.
import type { AgentState, AgentStateRecord, ApprovalDecision, ApprovalRecord, ApproverRule, AuditInput, AuditRecord, ChainedRecord, ConsentRecord, DelegationRecord, DynamicClientRecord, InboxPage, IssuedGrant, NewApproval, NewDelegation, PatRecord, PushedPresentation, PushedRequest, RefreshRecord } from './ports.ts';

export type DelegationRow = {
  did: string;
  sub: string;
  clientId: string;
  resource: string | null;
  origin: string;
  rootJti: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  budgetUses: number | null;
  budgetAmount: number | null;
  budgetCurrency: string | null;
  usedUses: number;
  usedAmount: number;
};

export function delegationFromRow(row: DelegationRow): DelegationRecord {
  const budget =
    row.budgetUses !== null || row.budgetAmount !== null
      ? { uses: row.budgetUses ?? undefined, amountMicros: row.budgetAmount ?? undefined, currency: row.budgetCurrency ?? undefined }
      : undefined;
  return {
    did: row.did,
    sub: row.sub,
    clientId: row.clientId,
    resource: row.resource ?? undefined,
    origin: row.origin,
    rootJti: row.rootJti ?? undefined,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt ?? undefined,
    revokedBy: row.revokedBy ?? undefined,
    budget,
    used: { uses: row.usedUses, amountMicros: row.usedAmount },
  };
}

export type AuditRow = { seq: number; id: string; atMs: number; event: string; clientId: string | null; subject: string | null; tokenJti: string | null; details: string; prevHash: string; hash: string };

export function auditFromRow(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    id: row.id,
    atMs: row.atMs,
    event: row.event,
    clientId: row.clientId ?? undefined,
    subject: row.subject ?? undefined,
    tokenJti: row.tokenJti ?? undefined,
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/**
 * An appended receipt as the store returns it. A literal, not { ...input, seq, prevHash, hash }:
 * V8 (Node 20) adds properties to a spread-made object at ~1 µs each, on every issuance.
 */
export const appendedRecord = (input: AuditInput, seq: number, prevHash: string, hash: string): AuditRecord => ({
  id: input.id,
  atMs: input.atMs,
  event: input.event,
  clientId: input.clientId,
  subject: input.subject,
  tokenJti: input.tokenJti,
  details: input.details,
  seq,
  prevHash,
  hash,
});

export type ChainedRow = Omit<AuditRow, 'details'> & { detailsJson: string };

/** A stored record for the verifier: NULL columns become absent, as they were when hashed. */
export function chainedFromRow(row: ChainedRow): ChainedRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    atMs: Number(row.atMs),
    event: row.event,
    clientId: row.clientId ?? undefined,
    subject: row.subject ?? undefined,
    tokenJti: row.tokenJti ?? undefined,
    detailsJson: row.detailsJson,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

export type RefreshRow = { tokenHash: string; familyId: string; clientId: string; grant: string; createdAt: number; expiresAt: number; usedAt?: number | null };

export function refreshFromRow(row: RefreshRow): RefreshRecord {
  return {
    tokenHash: row.tokenHash,
    familyId: row.familyId,
    clientId: row.clientId,
    grant: JSON.parse(row.grant) as IssuedGrant,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    ...(row.usedAt !== null && row.usedAt !== undefined ? { usedAt: row.usedAt } : {}),
  };
}

/** A new delegation as its row (the used counters start at the column defaults). */
export function delegationToRow(record: NewDelegation) {
  return {
    did: record.did,
    sub: record.sub,
    clientId: record.clientId,
    resource: record.resource ?? null,
    origin: record.origin,
    rootJti: record.rootJti ?? null,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    budgetUses: record.budget?.uses ?? null,
    budgetAmount: record.budget?.amountMicros ?? null,
    budgetCurrency: record.budget?.currency ?? null,
  };
}

/** A request that starts waiting for people, as its row. */
export function approvalToRow(record: NewApproval) {
  return {
    id: record.id,
    pollHash: record.pollHash,
    userCodeHash: record.userCodeHash ?? null,
    kind: record.kind,
    clientId: record.clientId,
    sub: record.sub ?? null,
    request: JSON.stringify(record.request),
    approvers: JSON.stringify(record.approvers),
    status: 'pending',
    intervalSeconds: record.intervalSeconds,
    lastPolledAt: null,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    decidedAt: null,
  };
}

export type ConsentRow = { sub: string; clientId: string; scopes: string; resources: string; detailsTypes: string; grantedAt: number };

export const consentFromRow = (row: ConsentRow): ConsentRecord => ({
  sub: row.sub,
  clientId: row.clientId,
  scopes: JSON.parse(row.scopes) as string[],
  resources: JSON.parse(row.resources) as string[],
  detailsTypes: JSON.parse(row.detailsTypes) as string[],
  grantedAt: row.grantedAt,
});

/** A consent as its row: the lists as JSON text (both backends store them so). */
export const consentToRow = (consent: ConsentRecord): ConsentRow => ({
  sub: consent.sub,
  clientId: consent.clientId,
  scopes: JSON.stringify(consent.scopes),
  resources: JSON.stringify(consent.resources),
  detailsTypes: JSON.stringify(consent.detailsTypes),
  grantedAt: consent.grantedAt,
});

export type DynamicClientRow = { clientId: string; source: string; client: string; refreshAt: number | null; createdAt: number; updatedAt: number };

export const dynamicClientFromRow = (row: DynamicClientRow): DynamicClientRecord => ({
  clientId: row.clientId,
  source: row.source === 'document' ? 'document' : 'registration',
  client: JSON.parse(row.client) as Record<string, unknown>,
  refreshAt: row.refreshAt ?? undefined,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export const dynamicClientToRow = (record: DynamicClientRecord): DynamicClientRow => ({
  clientId: record.clientId,
  source: record.source,
  client: JSON.stringify(record.client),
  refreshAt: record.refreshAt ?? null,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
});

export type ApprovalRow = {
  id: string;
  kind: string;
  clientId: string;
  sub: string | null;
  request: string;
  approvers: string;
  status: string;
  intervalSeconds: number;
  lastPolledAt: number | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
};
export type ApprovalDecisionRow = { approverSub: string; approverEmail: string | null; decision: string; decidedAt: number };

/** A request and its decisions (any order: they come out in the order they were made). */
export function approvalFromRow(row: ApprovalRow, decisions: readonly ApprovalDecisionRow[]): ApprovalRecord {
  return {
    id: row.id,
    kind: row.kind as ApprovalRecord['kind'],
    clientId: row.clientId,
    sub: row.sub ?? undefined,
    request: JSON.parse(row.request) as Record<string, unknown>,
    approvers: JSON.parse(row.approvers) as ApproverRule,
    status: row.status as ApprovalRecord['status'],
    intervalSeconds: row.intervalSeconds,
    lastPolledAt: row.lastPolledAt ?? undefined,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt ?? undefined,
    decisions: [...decisions]
      .sort((a, b) => a.decidedAt - b.decidedAt)
      .map((d): ApprovalDecision => ({ approverSub: d.approverSub, approverEmail: d.approverEmail ?? undefined, decision: d.decision as ApprovalDecision['decision'], decidedAt: d.decidedAt })),
  };
}

export type AgentStateRow = { clientId: string; state: string; changedAt: number; changedBy: string };

/** The table's CHECK constraint admits only the three states. */
export const agentStateFromRow = (row: AgentStateRow): AgentStateRecord => ({ ...row, state: row.state as AgentState });

/** A page of an inbox from its rows (one more than `limit` was read, to know whether a next page exists). */
export function inboxPageOf(records: readonly ApprovalRecord[], total: number, limit: number): InboxPage {
  const page = records.slice(0, limit);
  const last = page.at(-1);
  return { records: page, total, ...(records.length > limit && last ? { next: { createdAt: last.createdAt, id: last.id } } : {}) };
}

/** A pushed request is kept this long past its expiry: the longest an authorization it started may wait for its answer (request_ttl_seconds ≤ 3600). */
export const pushedKeepSeconds = 3600;

export type PushedRow = { idHash: string; clientId: string; params: string; expiresAt: number; browserHash: string | null; completedAt: number | null };

export const pushedFromRow = (row: PushedRow): PushedRequest => ({ idHash: row.idHash, clientId: row.clientId, params: JSON.parse(row.params) as Record<string, string | string[]>, expiresAt: row.expiresAt });

/** Why this presentation of a pushed request is refused, in this order; undefined: it may go on. */
export function pushedRefusal(row: PushedRow | undefined, clientId: string, browserHash: string, now: number): Exclude<PushedPresentation['status'], 'ok'> | undefined {
  if (!row) return 'unknown';
  if (row.clientId !== clientId) return 'other_client';
  if (row.expiresAt <= now) return 'expired';
  if (row.completedAt !== null) return 'completed';
  if (row.browserHash !== null && row.browserHash !== browserHash) return 'other_browser';
  return undefined;
}

/** A personal_access_tokens row, as both backends read it (scopes space-separated). */
export type PatRow = { id: string; tokenHash: string; sub: string; name: string; resource: string; scopes: string; createdAt: number; expiresAt: number; lastUsedAt: number | null; revokedAt: number | null };

export const patFromRow = (row: PatRow): PatRecord => ({
  id: row.id,
  tokenHash: row.tokenHash,
  sub: row.sub,
  name: row.name,
  resource: row.resource,
  scopes: row.scopes ? row.scopes.split(' ') : [],
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  lastUsedAt: row.lastUsedAt ?? undefined,
  revokedAt: row.revokedAt ?? undefined,
});
