// Row ↔ record mappings both backends share: the SQLite and PostgreSQL tables have the same
// columns (same names, numbers read as JS numbers), so a row of either becomes the same port record
// here. Pure: no driver, no SQL.
import type { AuditRecord, DelegationRecord, IssuedGrant, RefreshRecord } from './ports.ts';

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
