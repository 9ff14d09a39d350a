// Dynamic clients: self-registered (RFC 7591) or known by their metadata document URL.
import { dynamicClientFromRow, dynamicClientToRow } from '../rows.ts';
import { count, eq } from 'drizzle-orm';
import type { DynamicClientStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { dynamicClients } from './schema.ts';

export function createSqliteDynamicClientStore(db: SqliteDb): DynamicClientStore {
  return {
    async find(clientId) {
      const row = db.select().from(dynamicClients).where(eq(dynamicClients.clientId, clientId)).get();
      return row ? dynamicClientFromRow(row) : undefined;
    },
    async save(record) {
      const { clientId: _id, createdAt: _created, ...changes } = dynamicClientToRow(record);
      db.insert(dynamicClients).values(dynamicClientToRow(record)).onConflictDoUpdate({ target: dynamicClients.clientId, set: changes }).run();
    },
    async register(record, max) {
      // Count and insert in one synchronous transaction, so concurrent registrations cannot pass the cap.
      return db.transaction((tx) => {
        const existing = tx.select({ n: count() }).from(dynamicClients).where(eq(dynamicClients.source, record.source)).get();
        if ((existing?.n ?? 0) >= max) return false;
        tx.insert(dynamicClients).values(dynamicClientToRow(record)).run();
        return true;
      });
    },
  };
}
