// The export format of receipts: JSON Lines, one receipt per line with its chain position and
// hashes (field names as on the wire: snake_case), then, for an unfiltered export, one line with a
// checkpoint signed over its last receipt. What goes out is exactly what was hashed.
import type { AuditRecord } from '../store/ports.ts';

export type ExportFilter = { sinceMs?: number | undefined; untilMs?: number | undefined; clientId?: string | undefined; subject?: string | undefined; did?: string | undefined };

export const isFiltered = (filter: ExportFilter): boolean => Object.values(filter).some((v) => v !== undefined);

/** Whether a receipt is one the filter asks for; `did` matches the delegation id in its details. */
export function matches(record: AuditRecord, filter: ExportFilter): boolean {
  if (filter.sinceMs !== undefined && record.atMs < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && record.atMs >= filter.untilMs) return false;
  if (filter.clientId !== undefined && record.clientId !== filter.clientId) return false;
  if (filter.subject !== undefined && record.subject !== filter.subject) return false;
  if (filter.did !== undefined && record.details.did !== filter.did) return false;
  return true;
}

export function exportLine(record: AuditRecord): string {
  const { seq, id, atMs, event, clientId, subject, tokenJti, details, prevHash, hash } = record;
  return JSON.stringify({ seq, id, at_ms: atMs, event, client_id: clientId, subject, token_jti: tokenJti, details, prev_hash: prevHash, hash });
}

export const checkpointLine = (jws: string): string => JSON.stringify({ checkpoint: jws });

export type ExportedLine = { record: AuditRecord } | { checkpoint: string };

/** One line of an export back to a record (or the checkpoint); throws with what is wrong. */
export function parseExportLine(line: string): ExportedLine {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.checkpoint === 'string') return { checkpoint: o.checkpoint };
  const text = (name: string, optional = false): string | undefined => {
    const v = o[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new Error(`${name} is not a string`);
    return v;
  };
  if (typeof o.seq !== 'number' || typeof o.at_ms !== 'number') throw new Error('seq and at_ms must be numbers');
  if (typeof o.details !== 'object' || o.details === null || Array.isArray(o.details)) throw new Error('details is not an object');
  return {
    record: {
      seq: o.seq,
      id: text('id') as string,
      atMs: o.at_ms,
      event: text('event') as string,
      clientId: text('client_id', true),
      subject: text('subject', true),
      tokenJti: text('token_jti', true),
      details: o.details as Record<string, unknown>,
      prevHash: text('prev_hash') as string,
      hash: text('hash') as string,
    },
  };
}
