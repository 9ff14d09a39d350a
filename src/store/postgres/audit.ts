// Append-only audit records on PostgreSQL, hash-chained exactly as ../sqlite/audit.ts does (the
// details column holds canonicalJson(details), the hash is chainHash(prevHash, input, detailsJson)),
// so one verifier checks both backends. Appends are group-committed (../group-commit.ts): each batch
// is ONE transaction that takes a transaction advisory lock, reads the chain head, and inserts the
// whole chained batch in one multi-row INSERT. The lock, not a row lock, orders appenders on every
// node: `SELECT … ORDER BY seq DESC LIMIT 1 FOR UPDATE` would let a waiter under READ COMMITTED
// re-check only the old head row and fork the chain. A batch fails or commits as a whole.
import { auditFromRow } from '../rows.ts';
import { asc, desc, gt, sql } from 'drizzle-orm';
import { canonicalJson, chainHash, genesisHash } from '../../audit/chain.ts';
import { createGroupCommit } from '../group-commit.ts';
import type { AuditInput, AuditRecord, AuditStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { auditRecords } from './schema.ts';

export function createPgAuditStore(db: PgDb): AuditStore {
  const appendBatch = (inputs: AuditInput[]): Promise<AuditRecord[]> =>
    db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.auditChain}::bigint)`);
      // Read after the lock: a statement's snapshot is taken when it starts, so this sees the head
      // the previous lock holder committed.
      const [last] = await tx.select({ seq: auditRecords.seq, hash: auditRecords.hash }).from(auditRecords).orderBy(desc(auditRecords.seq)).limit(1);
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? genesisHash;
      const rows: (typeof auditRecords.$inferInsert)[] = [];
      const records = inputs.map((input): AuditRecord => {
        const details = canonicalJson(input.details);
        const hash = chainHash(prevHash, input, details);
        seq += 1;
        const record = { ...input, seq, prevHash, hash };
        rows.push({ seq, id: input.id, atMs: input.atMs, event: input.event, clientId: input.clientId ?? null, subject: input.subject ?? null, tokenJti: input.tokenJti ?? null, details, prevHash, hash });
        prevHash = hash;
        return record;
      });
      await tx.insert(auditRecords).values(rows);
      return records;
    });
  // 512 rows × 10 columns stays far below PostgreSQL's 65,535 bind parameters per statement.
  const append = createGroupCommit(appendBatch, 512);

  return {
    append,
    async list(options = {}) {
      const rows = await db
        .select()
        .from(auditRecords)
        .where(gt(auditRecords.seq, options.afterSeq ?? 0))
        .orderBy(asc(auditRecords.seq))
        .limit(options.limit ?? 1000);
      return rows.map(auditFromRow);
    },
  };
}
