// Append-only audit records, hash-chained: each record's hash covers the previous record's hash.
// Appends go through the group-committing writer (./writer.ts), so the receipts of one event-loop
// turn share one transaction. The chain head is read inside that transaction, so another process
// appending to the same file (the CLI) never forks the chain. The hot statements are plain prepared
// better-sqlite3 statements: drizzle's query building costs more than the insert itself.
import { appendedRecord, auditFromRow, chainedFromRow, type ChainedRow } from '../rows.ts';
import { asc, desc, eq, gt, sql } from 'drizzle-orm';
import { canonicalJson, chainHash, genesisHash } from '../../audit/chain.ts';
import type { AuditInput, AuditRecord, AuditStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { auditRecords } from './schema.ts';
import type { SqliteWrite } from './writer.ts';

export function createSqliteAuditStore(db: SqliteDb, write: SqliteWrite): AuditStore {
  const sqlite = db.$client;
  const head = sqlite.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
  const insert = sqlite.prepare(
    'INSERT INTO audit_records (seq, id, at_ms, event, client_id, subject, token_jti, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const page = sqlite.prepare<[number, number], ChainedRow>(
    'SELECT seq, id, at_ms AS atMs, event, client_id AS clientId, subject, token_jti AS tokenJti, details AS detailsJson, prev_hash AS prevHash, hash FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  // The chain head as this batch left it: read once per batch transaction, not once per receipt.
  // A new batch reads it again (another process, the CLI, may have appended in between; a batch
  // that failed to commit left nothing).
  let known: { batch: number; seq: number; hash: string } | undefined;
  const appendOne = (input: AuditInput): AuditRecord => {
    const last = known?.batch === write.batch() ? known : head.get();
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? genesisHash;
    // The details' canonical JSON is both hashed and stored: one serialization, not two.
    const details = canonicalJson(input.details);
    const hash = chainHash(prevHash, input, details);
    insert.run(seq, input.id, input.atMs, input.event, input.clientId ?? null, input.subject ?? null, input.tokenJti ?? null, details, prevHash, hash);
    known = { batch: write.batch(), seq, hash };
    return appendedRecord(input, seq, prevHash, hash);
  };

  return {
    // One INSERT: a receipt that fails is undone by SQLite alone, no savepoint needed.
    append: (input) => write(() => appendOne(input), { oneStatement: true }),
    async list(options = {}) {
      const rows = db
        .select()
        .from(auditRecords)
        .where(gt(auditRecords.seq, options.afterSeq ?? 0))
        .orderBy(asc(auditRecords.seq))
        .limit(options.limit ?? 1000)
        .all();
      return rows.map(auditFromRow);
    },
    head: async () => head.get(),
    async chainPage({ afterSeq, limit }) {
      return page.all(afterSeq, limit).map(chainedFromRow);
    },
    async find(id) {
      const row = db.select().from(auditRecords).where(eq(auditRecords.id, id)).get();
      return row && auditFromRow(row);
    },
    // The expression matches the index audit_records_did (schema.ts) exactly, so SQLite uses it.
    async listByDid(did, limit) {
      return db.select().from(auditRecords).where(sql`json_extract(${auditRecords.details}, '$.did') = ${did}`).orderBy(desc(auditRecords.seq)).limit(limit).all().map(auditFromRow);
    },
  };
}
