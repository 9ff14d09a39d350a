// Append-only audit records, hash-chained: each record's hash covers the previous record's hash.
// Reading the chain head and inserting run in one transaction. Issuance is a hot path, so the
// statements and the transaction function are prepared once, not per record.
import { asc, desc, gt, sql } from 'drizzle-orm';
import { chainHash, genesisHash } from '../../audit/chain.ts';
import type { AuditInput, AuditRecord, AuditStore } from '../ports.ts';
import type { SqliteDb } from './open.ts';
import { auditRecords } from './schema.ts';

export function createSqliteAuditStore(db: SqliteDb): AuditStore {
  const head = db.select({ hash: auditRecords.hash }).from(auditRecords).orderBy(desc(auditRecords.seq)).limit(1).prepare();
  const insert = db
    .insert(auditRecords)
    .values({
      id: sql.placeholder('id'),
      atMs: sql.placeholder('atMs'),
      event: sql.placeholder('event'),
      clientId: sql.placeholder('clientId'),
      subject: sql.placeholder('subject'),
      tokenJti: sql.placeholder('tokenJti'),
      details: sql.placeholder('details'),
      prevHash: sql.placeholder('prevHash'),
      hash: sql.placeholder('hash'),
    })
    .returning({ seq: auditRecords.seq })
    .prepare();
  const append = db.$client.transaction((input: AuditInput): AuditRecord => {
    const prevHash = head.get()?.hash ?? genesisHash;
    const hash = chainHash(prevHash, input);
    const row = insert.get({
      id: input.id,
      atMs: input.atMs,
      event: input.event,
      clientId: input.clientId ?? null,
      subject: input.subject ?? null,
      tokenJti: input.tokenJti ?? null,
      details: JSON.stringify(input.details),
      prevHash,
      hash,
    }) as { seq: number };
    return { ...input, seq: row.seq, prevHash, hash };
  });

  return {
    async append(input) {
      return append.immediate(input);
    },
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
