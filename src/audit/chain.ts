// The audit hash chain (pure): hash_n = SHA-256(hash_{n-1} || canonical JSON of record n).
// A verifier recomputes the chain from the records alone.
import { createHash } from 'node:crypto';
import type { AuditInput, AuditRecord } from '../store/ports.ts';

export const genesisHash = '0'.repeat(64);

/** Keys as JSON strings: receipts use a small vocabulary of keys, quoted once rather than per record. */
const quotedKeys = new Map<string, string>();
const quotedKey = (key: string): string => {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted); // bounded: keys of RAR details are the caller's
  }
  return quoted;
};

/** JSON with object keys sorted (UTF-16 code unit order), so the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (canonicalJson(value[i]) ?? '');
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${quotedKey(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

/**
 * The canonical JSON of a record's hashed fields, given its details' canonical JSON: the same text
 * as canonicalJson({ id, atMs, event, clientId, subject, tokenJti, details }), built without a
 * second pass over the details (an appender stores that same text as the details column).
 */
export function recordJson(record: Omit<AuditInput, 'details'>, detailsJson: string): string {
  const { id, atMs, event, clientId, subject, tokenJti } = record;
  // Keys in sorted order: atMs, clientId, details, event, id, subject, tokenJti.
  let out = `{"atMs":${JSON.stringify(atMs)}`;
  if (clientId !== undefined) out += `,"clientId":${JSON.stringify(clientId)}`;
  out += `,"details":${detailsJson},"event":${JSON.stringify(event)},"id":${JSON.stringify(id)}`;
  if (subject !== undefined) out += `,"subject":${JSON.stringify(subject)}`;
  if (tokenJti !== undefined) out += `,"tokenJti":${JSON.stringify(tokenJti)}`;
  return `${out}}`;
}

export function chainHash(prevHash: string, record: Omit<AuditInput, 'details'> & { details?: unknown }, detailsJson: string = canonicalJson(record.details)): string {
  return createHash('sha256').update(prevHash).update(recordJson(record, detailsJson)).digest('hex');
}

/** Index of the first record that breaks the chain, or -1 when the whole chain holds. */
export function findChainBreak(records: readonly AuditRecord[], startHash = genesisHash): number {
  let prev = startHash;
  for (const [index, record] of records.entries()) {
    if (record.prevHash !== prev || chainHash(prev, record) !== record.hash) return index;
    prev = record.hash;
  }
  return -1;
}
