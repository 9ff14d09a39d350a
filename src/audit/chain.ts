// The audit hash chain (pure): hash_n = SHA-256(hash_{n-1} || canonical JSON of record n).
// A verifier recomputes the chain from the records alone.
import { createHash } from 'node:crypto';
import type { AuditInput, AuditRecord } from '../store/ports.ts';

export const genesisHash = '0'.repeat(64);

/** JSON with object keys sorted, so the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function chainHash(prevHash: string, record: AuditInput): string {
  const { id, atMs, event, clientId, subject, tokenJti, details } = record;
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson({ id, atMs, event, clientId, subject, tokenJti, details }))
    .digest('hex');
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
