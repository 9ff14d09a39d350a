// Dynamic clients on PostgreSQL: self-registered (RFC 7591) or known by their metadata document URL.
// The registration cap is counted and enforced under a transaction advisory lock per source, so
// nodes registering at once cannot pass it together (READ COMMITTED alone would let them).
import { count, eq, sql } from 'drizzle-orm';
import type { DynamicClientRecord, DynamicClientStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { dynamicClients } from './schema.ts';

const toRecord = (row: typeof dynamicClients.$inferSelect): DynamicClientRecord => ({
  clientId: row.clientId,
  source: row.source === 'document' ? 'document' : 'registration',
  client: JSON.parse(row.client) as Record<string, unknown>,
  refreshAt: row.refreshAt ?? undefined,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toRow = (record: DynamicClientRecord): typeof dynamicClients.$inferInsert => ({
  clientId: record.clientId,
  source: record.source,
  client: JSON.stringify(record.client),
  refreshAt: record.refreshAt ?? null,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
});

export function createPgDynamicClientStore(db: PgDb): DynamicClientStore {
  return {
    async find(clientId) {
      const [row] = await db.select().from(dynamicClients).where(eq(dynamicClients.clientId, clientId));
      return row ? toRecord(row) : undefined;
    },
    async save(record) {
      const { clientId: _id, createdAt: _created, ...changes } = toRow(record);
      await db.insert(dynamicClients).values(toRow(record)).onConflictDoUpdate({ target: dynamicClients.clientId, set: changes });
    },
    async register(record, max) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.dynamicClients}::int, hashtext(${record.source}))`);
        const [existing] = await tx.select({ n: count() }).from(dynamicClients).where(eq(dynamicClients.source, record.source));
        if ((existing?.n ?? 0) >= max) return false;
        await tx.insert(dynamicClients).values(toRow(record));
        return true;
      });
    },
  };
}
