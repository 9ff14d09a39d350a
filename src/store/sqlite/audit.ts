// Append-only audit records, hash-chained: each record's hash covers the previous record's hash.
// The read of the chain head and the insert run in one synchronous transaction.
import { asc, desc, gt } from 'drizzle-orm';
import { chainHash, genesisHash } from '../../audit/chain.ts';
import type { AuditRecord, AuditStore } from '../ports.ts';
import type { SqliteDb } from './open.ts';
import { auditRecords } from './schema.ts';

export function createSqliteAuditStore(db: SqliteDb): AuditStore {
  return {
    async append(input) {
      return db.transaction((tx) => {
        const head = tx.select({ hash: auditRecords.hash }).from(auditRecords).orderBy(desc(auditRecords.seq)).limit(1).get();
        const prevHash = head?.hash ?? genesisHash;
        const hash = chainHash(prevHash, input);
        const row = tx
          .insert(auditRecords)
          .values({
            id: input.id,
            atMs: input.atMs,
            event: input.event,
            clientId: input.clientId ?? null,
            subject: input.subject ?? null,
            tokenJti: input.tokenJti ?? null,
            details: JSON.stringify(input.details),
            prevHash,
            hash,
          })
          .returning({ seq: auditRecords.seq })
          .get();
        return { ...input, seq: row.seq, prevHash, hash };
      });
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
