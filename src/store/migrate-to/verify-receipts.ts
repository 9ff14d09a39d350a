// After the copy, inside the same target transaction: the receipt hash chain, read back from
// PostgreSQL page by page, verifies from the genesis hash and ends at the SQLite chain's head, so
// every receipt (and its hash) arrived byte for byte. A break throws; the caller rolls back.
import { asc, gt } from 'drizzle-orm';
import { findChainBreak, genesisHash } from '../../audit/chain.ts';
import type { PgTx } from '../postgres/transaction.ts';
import { auditRecords } from '../postgres/schema.ts';
import { auditFromRow } from '../rows.ts';
import { MigrateToError } from './errors.ts';

const page = 1000;

/** The number of receipts verified. */
export async function verifyReceiptChain(tx: PgTx, sourceHead: { seq: number; hash: string } | undefined): Promise<number> {
  let prevHash = genesisHash;
  let last: { seq: number; hash: string } | undefined;
  let count = 0;
  for (;;) {
    const rows = await tx.select().from(auditRecords).where(gt(auditRecords.seq, last?.seq ?? 0)).orderBy(asc(auditRecords.seq)).limit(page);
    if (rows.length === 0) break;
    const records = rows.map(auditFromRow);
    const broken = findChainBreak(records, prevHash);
    if (broken >= 0) throw new MigrateToError(`the receipt chain does not verify after the copy (receipt seq ${records[broken]?.seq}); nothing was copied. Was the SQLite database's audit_records altered?`);
    const tail = records.at(-1) as (typeof records)[number];
    last = { seq: tail.seq, hash: tail.hash };
    prevHash = tail.hash;
    count += records.length;
  }
  if (last?.seq !== sourceHead?.seq || last?.hash !== sourceHead?.hash) {
    throw new MigrateToError(`the copied receipt chain ends at seq ${last?.seq ?? 0}, the SQLite one at seq ${sourceHead?.seq ?? 0}; nothing was copied`);
  }
  return count;
}
