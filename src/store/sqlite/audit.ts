// Append-only audit records, hash-chained: each record's hash covers the previous record's hash.
// Appends are group-committed (../group-commit.ts): one IMMEDIATE transaction per batch reads the
// chain head once, then chains and inserts the batch. The head is read inside the transaction, so
// another process appending to the same file (the CLI) never forks the chain. The hot statements
// are plain prepared better-sqlite3 statements: drizzle's query building costs more than the insert.
import { asc, gt } from 'drizzle-orm';
import { chainHash, genesisHash } from '../../audit/chain.ts';
import { createGroupCommit } from '../group-commit.ts';
import type { AuditInput, AuditRecord, AuditStore } from '../ports.ts';
import type { SqliteDb } from './open.ts';
import { auditRecords } from './schema.ts';

export function createSqliteAuditStore(db: SqliteDb): AuditStore {
  const sqlite = db.$client;
  const head = sqlite.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
  const insert = sqlite.prepare(
    'INSERT INTO audit_records (seq, id, at_ms, event, client_id, subject, token_jti, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const writeBatch = sqlite.transaction((inputs: AuditInput[]): AuditRecord[] => {
    const last = head.get();
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? genesisHash;
    return inputs.map((input) => {
      seq += 1;
      const hash = chainHash(prevHash, input);
      insert.run(seq, input.id, input.atMs, input.event, input.clientId ?? null, input.subject ?? null, input.tokenJti ?? null, JSON.stringify(input.details), prevHash, hash);
      const record: AuditRecord = { ...input, seq, prevHash, hash };
      prevHash = hash;
      return record;
    });
  });
  const append = createGroupCommit((inputs: AuditInput[]) => writeBatch.immediate(inputs));

  return {
    append,
    async list(options = {}) {
      const rows = db
        .select()
        .from(auditRecords)
        .where(gt(auditRecords.seq, options.afterSeq ?? 0))
        .orderBy(asc(auditRecords.seq))
        .limit(options.limit ?? 1000)
        .all();
      return rows.map(
        (row): AuditRecord => ({
          seq: row.seq,
          id: row.id,
          atMs: row.atMs,
          event: row.event,
          clientId: row.clientId ?? undefined,
          subject: row.subject ?? undefined,
          tokenJti: row.tokenJti ?? undefined,
          details: JSON.parse(row.details),
          prevHash: row.prevHash,
          hash: row.hash,
        }),
      );
    },
  };
}
