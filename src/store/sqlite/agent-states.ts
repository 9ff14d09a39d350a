// Agents' runtime lifecycle states. The read is on the token endpoint's path for every agent (never
// for other clients), so it is one prepared primary-key lookup (~13 µs of CPU measured on a busy
// machine) and there is no cache (no PRAGMA data_version polling): a change committed by any process,
// the CLI included, is seen by the very next read. Setting is one statement that never leaves `retired`.
import { eq, ne, sql } from 'drizzle-orm';
import type { AgentStateStore } from '../ports.ts';
import { agentStateFromRow } from '../rows.ts';
import type { SqliteDb } from './db.ts';
import { agentStates } from './schema.ts';

export function createSqliteAgentStateStore(db: SqliteDb): AgentStateStore {
  const lookup = db.select().from(agentStates).where(eq(agentStates.clientId, sql.placeholder('clientId'))).prepare();
  // Upsert whose update only applies while the stored state is not retired: of a resume and a
  // retirement racing, the retirement can come last but never first-then-undone.
  const upsert = db
    .insert(agentStates)
    .values({ clientId: sql.placeholder('clientId'), state: sql.placeholder('state'), changedAt: sql.placeholder('changedAt'), changedBy: sql.placeholder('changedBy') })
    .onConflictDoUpdate({
      target: agentStates.clientId,
      set: { state: sql`excluded.state`, changedAt: sql`excluded.changed_at`, changedBy: sql`excluded.changed_by` },
      setWhere: ne(agentStates.state, 'retired'),
    })
    .prepare();
  return {
    async find(clientId) {
      const row = lookup.get({ clientId });
      return row ? agentStateFromRow(row) : undefined;
    },
    async findMany(clientIds) {
      return [...new Set(clientIds)].flatMap((clientId) => {
        const row = lookup.get({ clientId });
        return row ? [agentStateFromRow(row)] : [];
      });
    },
    async list() {
      return db.select().from(agentStates).orderBy(agentStates.clientId).all().map(agentStateFromRow);
    },
    async set(record) {
      return upsert.run({ ...record }).changes === 1;
    },
  };
}
