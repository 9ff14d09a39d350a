// Dynamic clients on PostgreSQL: self-registered (RFC 7591) or known by their metadata document URL.
// The registration cap is counted and enforced under a transaction advisory lock per source, so
// nodes registering at once cannot pass it together (READ COMMITTED alone would let them).
import { dynamicClientFromRow, dynamicClientToRow } from '../rows.ts';
import { count, eq, sql } from 'drizzle-orm';
import type { DynamicClientStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { advisoryLocks } from './locks.ts';
import { dynamicClients } from './schema.ts';

export function createPgDynamicClientStore(db: PgDb): DynamicClientStore {
  return {
    async find(clientId) {
      const [row] = await db.select().from(dynamicClients).where(eq(dynamicClients.clientId, clientId));
      return row ? dynamicClientFromRow(row) : undefined;
    },
    async save(record) {
      const { clientId: _id, createdAt: _created, ...changes } = dynamicClientToRow(record);
      await db.insert(dynamicClients).values(dynamicClientToRow(record)).onConflictDoUpdate({ target: dynamicClients.clientId, set: changes });
    },
    async register(record, max) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.dynamicClients}::int, hashtext(${record.source}))`);
        const [existing] = await tx.select({ n: count() }).from(dynamicClients).where(eq(dynamicClients.source, record.source));
        if ((existing?.n ?? 0) >= max) return false;
        await tx.insert(dynamicClients).values(dynamicClientToRow(record));
        return true;
      });
    },
  };
}
