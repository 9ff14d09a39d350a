// Walking the receipt chain: from the store page by page, or from an exported file line by line,
// in constant memory. Reports the first record that breaks the chain and why, in words.
import { chainHash, genesisHash } from './chain.ts';
import type { AuditRecord, AuditStore, ChainedRecord } from '../store/ports.ts';

/** A record as a verifier needs it: from the store as stored (`detailsJson`), or parsed from an export. */
type Walked = AuditRecord | ChainedRecord;

const hashOf = (record: Walked): string => ('detailsJson' in record ? chainHash(record.prevHash, record, record.detailsJson) : chainHash(record.prevHash, record));

export type ChainBreak = { seq: number; id: string; reason: string };

export type ChainReport = {
  /** Records checked before the walk ended (at the end, or at the first break). */
  checked: number;
  first?: { seq: number; prevHash: string } | undefined;
  last?: { seq: number; hash: string } | undefined;
  broken?: ChainBreak | undefined;
};

/**
 * Checks that each record's hash covers its content and the hash before it, and that positions
 * follow one another. `startHash` is the hash before the first record: the genesis hash for a
 * whole chain; for a segment, its first record's own prev_hash is taken as given (a checkpoint
 * then ties the segment to the signed chain).
 */
export async function walkChain(records: AsyncIterable<Walked>, options: { startHash?: string } = {}): Promise<ChainReport> {
  const report: ChainReport = { checked: 0 };
  let prev: Walked | undefined;
  for await (const record of records) {
    const expectedPrev = prev ? prev.hash : (options.startHash ?? record.prevHash);
    if (prev && record.seq !== prev.seq + 1) return { ...report, broken: { seq: record.seq, id: record.id, reason: `comes after seq ${prev.seq}: ${record.seq > prev.seq ? `${record.seq - prev.seq - 1} record(s) missing` : 'out of order'}` } };
    if (record.prevHash !== expectedPrev) return { ...report, broken: { seq: record.seq, id: record.id, reason: prev ? `its prev_hash is not the hash of seq ${prev.seq}: a record before it was changed or replaced` : 'its prev_hash is not the start of the chain' } };
    if (hashOf(record) !== record.hash) return { ...report, broken: { seq: record.seq, id: record.id, reason: 'its content does not match its hash: the record was changed' } };
    report.first ??= { seq: record.seq, prevHash: record.prevHash };
    report.last = { seq: record.seq, hash: record.hash };
    report.checked++;
    prev = record;
  }
  return report;
}

/** Every record of the store in chain order, fetched `pageSize` at a time. */
export async function* storedRecords(audit: AuditStore, options: { afterSeq?: number; pageSize?: number } = {}): AsyncGenerator<AuditRecord> {
  let afterSeq = options.afterSeq ?? 0;
  const limit = options.pageSize ?? 5000;
  for (;;) {
    const page = await audit.list({ afterSeq, limit });
    yield* page;
    if (page.length < limit) return;
    afterSeq = (page.at(-1) as AuditRecord).seq;
  }
}

/**
 * The same, as stored: the details text that was hashed is hashed again, unparsed. Faster, and
 * stricter (any change of a stored byte shows, even one JSON would not see).
 */
export async function* storedChain(audit: AuditStore, pageSize = 5000): AsyncGenerator<ChainedRecord> {
  let afterSeq = 0;
  for (;;) {
    const page = await audit.chainPage({ afterSeq, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    afterSeq = (page.at(-1) as ChainedRecord).seq;
  }
}

export { genesisHash };
