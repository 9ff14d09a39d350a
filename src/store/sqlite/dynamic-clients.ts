// Dynamic clients: self-registered (RFC 7591) or known by their metadata document URL.
import { count, eq } from 'drizzle-orm';
import type { DynamicClientRecord, DynamicClientStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
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

export function createSqliteDynamicClientStore(db: SqliteDb): DynamicClientStore {
  return {
    async find(clientId) {
      const row = db.select().from(dynamicClients).where(eq(dynamicClients.clientId, clientId)).get();
      return row ? toRecord(row) : undefined;
    },
    async save(record) {
      const { clientId: _id, createdAt: _created, ...changes } = toRow(record);
      db.insert(dynamicClients).values(toRow(record)).onConflictDoUpdate({ target: dynamicClients.clientId, set: changes }).run();
    },
    async register(record, max) {
      // Count and insert in one synchronous transaction, so concurrent registrations cannot pass the cap.
      return db.transaction((tx) => {
        const existing = tx.select({ n: count() }).from(dynamicClients).where(eq(dynamicClients.source, record.source)).get();
        if ((existing?.n ?? 0) >= max) return false;
        tx.insert(dynamicClients).values(toRow(record)).run();
        return true;
      });
    },
  };
}
