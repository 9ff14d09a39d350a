// Append-only audit records on PostgreSQL, hash-chained exactly as ../sqlite/audit.ts does (the
// details column holds canonicalJson(details), the hash is chainHash(prevHash, input, detailsJson)),
// so one verifier checks both backends. Appends are group-committed (../group-commit.ts): each batch
// is ONE transaction that takes a transaction advisory lock, reads the chain head, and inserts the
// whole chained batch in one INSERT (one array per column, unnested). The lock, not a row lock, orders appenders on every
// node: `SELECT … ORDER BY seq DESC LIMIT 1 FOR UPDATE` would let a waiter under READ COMMITTED
// re-check only the old head row and fork the chain. A batch fails or commits as a whole.
import { appendedRecord, auditFromRow, chainedFromRow } from '../rows.ts';
import { asc, desc, eq, gt, sql } from 'drizzle-orm';
import { canonicalJson, chainHash, genesisHash } from '../../audit/chain.ts';
import { createGroupCommit } from '../group-commit.ts';
import type { AuditInput, AuditRecord, AuditStore, StoreObserver } from '../ports.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { auditRecords } from './schema.ts';

export function createPgAuditStore(db: PgDb, observer?: StoreObserver): AuditStore {
  const appendBatch = (inputs: AuditInput[]): Promise<AuditRecord[]> =>
    db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.auditChain}::bigint)`);
      // Read after the lock: a statement's snapshot is taken when it starts, so this sees the head
      // the previous lock holder committed.
      const [last] = await tx.select({ seq: auditRecords.seq, hash: auditRecords.hash }).from(auditRecords).orderBy(desc(auditRecords.seq)).limit(1);
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? genesisHash;
      const columns = { seq: [] as number[], id: [] as string[], atMs: [] as number[], event: [] as string[], clientId: [] as (string | null)[], subject: [] as (string | null)[], tokenJti: [] as (string | null)[], details: [] as string[], prevHash: [] as string[], hash: [] as string[] };
      const records = inputs.map((input): AuditRecord => {
        const details = canonicalJson(input.details);
        const hash = chainHash(prevHash, input, details);
        seq += 1;
        const record = appendedRecord(input, seq, prevHash, hash);
        columns.seq.push(seq);
        columns.id.push(input.id);
        columns.atMs.push(input.atMs);
        columns.event.push(input.event);
        columns.clientId.push(input.clientId ?? null);
        columns.subject.push(input.subject ?? null);
        columns.tokenJti.push(input.tokenJti ?? null);
        columns.details.push(details);
        columns.prevHash.push(prevHash);
        columns.hash.push(hash);
        prevHash = hash;
        return record;
      });
      // One array parameter per column, unnested into rows: drizzle's multi-row VALUES builder cost
      // ~40 µs of CPU per row (ten bind parameters each), which made receipts on PostgreSQL ~3x the
      // CPU of SQLite's; ten parameters whatever the batch size cost next to nothing to build.
      const { param } = sql;
      await tx.execute(sql`INSERT INTO ${auditRecords} (seq, id, at_ms, event, client_id, subject, token_jti, details, prev_hash, hash)
        SELECT * FROM unnest(${param(columns.seq)}::bigint[], ${param(columns.id)}::text[], ${param(columns.atMs)}::bigint[], ${param(columns.event)}::text[], ${param(columns.clientId)}::text[],
          ${param(columns.subject)}::text[], ${param(columns.tokenJti)}::text[], ${param(columns.details)}::text[], ${param(columns.prevHash)}::text[], ${param(columns.hash)}::text[])`);
      return records;
    });
  // At most 512 receipts per transaction, so one batch never holds the chain's lock for long.
  const append = createGroupCommit(appendBatch, 512, observer && ((size, seconds) => observer.commit(size, seconds)));

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
    async chainPage({ afterSeq, limit }) {
      const rows = await db
        .select({ seq: auditRecords.seq, id: auditRecords.id, atMs: auditRecords.atMs, event: auditRecords.event, clientId: auditRecords.clientId, subject: auditRecords.subject, tokenJti: auditRecords.tokenJti, detailsJson: auditRecords.details, prevHash: auditRecords.prevHash, hash: auditRecords.hash })
        .from(auditRecords)
        .where(gt(auditRecords.seq, afterSeq))
        .orderBy(asc(auditRecords.seq))
        .limit(limit);
      return rows.map(chainedFromRow);
    },
    async head() {
      const [last] = await db.select({ seq: auditRecords.seq, hash: auditRecords.hash }).from(auditRecords).orderBy(desc(auditRecords.seq)).limit(1);
      return last && { seq: Number(last.seq), hash: last.hash };
    },
    async find(id) {
      const [row] = await db.select().from(auditRecords).where(eq(auditRecords.id, id)).limit(1);
      return row && auditFromRow(row);
    },
    // The expression matches the index audit_records_did (schema.ts) exactly, so PostgreSQL uses it.
    async listByDid(did, limit) {
      const rows = await db.select().from(auditRecords).where(sql`(${auditRecords.details}::jsonb ->> 'did') = ${did}`).orderBy(desc(auditRecords.seq)).limit(limit);
      return rows.map(auditFromRow);
    },
  };
}
