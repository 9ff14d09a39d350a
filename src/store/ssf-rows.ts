// SSF stream and event rows ↔ records, the same for both backends (their columns have the same
// names and, read as JS, the same values: JSON as text, times as numbers).
import type { SsfDelivery, SsfEventRecord, SsfStreamRecord, SsfStreamStatus } from './ports.ts';

export type SsfStreamRow = {
  id: string;
  receiver: string;
  audience: string;
  method: string;
  delivery: string;
  eventsRequested: string | null;
  eventsDelivered: string;
  description: string | null;
  status: string;
  statusReason: string | null;
  fromSeq: number;
  createdAt: number;
  updatedAt: number;
};

export type SsfEventRow = { jti: string; streamId: string; claims: string; createdAtMs: number; attempts: number; nextAttemptAtMs: number; claimedUntilMs?: number | null };

export const ssfFeedId = 'receipts';

export function streamFromRow(row: SsfStreamRow): SsfStreamRecord {
  return {
    id: row.id,
    receiver: row.receiver,
    audience: row.audience,
    delivery: JSON.parse(row.delivery) as SsfDelivery,
    ...(row.eventsRequested !== null ? { eventsRequested: JSON.parse(row.eventsRequested) as string[] } : {}),
    eventsDelivered: JSON.parse(row.eventsDelivered) as string[],
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status as SsfStreamStatus,
    ...(row.statusReason !== null ? { statusReason: row.statusReason } : {}),
    fromSeq: Number(row.fromSeq),
    createdAt: Number(row.createdAt),
    updatedAt: Number(row.updatedAt),
  };
}

export function streamToRow(record: SsfStreamRecord): SsfStreamRow {
  return {
    id: record.id,
    receiver: record.receiver,
    audience: record.audience,
    method: record.delivery.method,
    delivery: JSON.stringify(record.delivery),
    eventsRequested: record.eventsRequested === undefined ? null : JSON.stringify(record.eventsRequested),
    eventsDelivered: JSON.stringify(record.eventsDelivered),
    description: record.description ?? null,
    status: record.status,
    statusReason: record.statusReason ?? null,
    fromSeq: record.fromSeq,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function eventFromRow(row: SsfEventRow): SsfEventRecord {
  return {
    jti: row.jti,
    streamId: row.streamId,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
    createdAtMs: Number(row.createdAtMs),
    attempts: Number(row.attempts),
    nextAttemptAtMs: Number(row.nextAttemptAtMs),
  };
}

export const eventToRow = (record: SsfEventRecord): SsfEventRow => ({
  jti: record.jti,
  streamId: record.streamId,
  claims: JSON.stringify(record.claims),
  createdAtMs: record.createdAtMs,
  attempts: record.attempts,
  nextAttemptAtMs: record.nextAttemptAtMs,
  claimedUntilMs: null,
});
