// Agents' runtime lifecycle states on PostgreSQL, shared by every node. The read is on the token
// endpoint's path for every agent (never for other clients): one named prepared statement on the
// primary key, and no per-node cache, so a change made through any node (or the CLI) is in force
// for the very next request on all of them. Chosen over a cache invalidated by LISTEN/NOTIFY: a
// notification arrives after the commit, so a cache leaves a window in which a node still serves a
// suspended agent (and a lost listening connection widens it); the read measured ~0.13 ms of CPU
// and ~0.4 ms of wall time on loopback on a busy 2-core machine, small beside the receipt an agent's
// token request writes anyway. Setting is one statement that never leaves `retired`.
import { eq, inArray, ne, sql } from 'drizzle-orm';
import type { AgentStateStore } from '../ports.ts';
import { agentStateFromRow } from '../rows.ts';
import type { PgDb } from './db.ts';
import { agentStates } from './schema.ts';

export function createPgAgentStateStore(db: PgDb): AgentStateStore {
  const lookup = db.select().from(agentStates).where(eq(agentStates.clientId, sql.placeholder('clientId'))).prepare('consulate_agent_state');
  return {
    async find(clientId) {
      const [row] = await lookup.execute({ clientId });
      return row ? agentStateFromRow(row) : undefined;
    },
    async findMany(clientIds) {
      if (clientIds.length === 0) return [];
      return (await db.select().from(agentStates).where(inArray(agentStates.clientId, [...new Set(clientIds)]))).map(agentStateFromRow);
    },
    async list() {
      return (await db.select().from(agentStates).orderBy(agentStates.clientId)).map(agentStateFromRow);
    },
    async set(record) {
      // INSERT … ON CONFLICT DO UPDATE … WHERE: the row is locked for the update and the WHERE is
      // evaluated on its latest committed version, so a concurrent retirement is never overwritten.
      const result = await db
        .insert(agentStates)
        .values(record)
        .onConflictDoUpdate({
          target: agentStates.clientId,
          set: { state: sql`excluded.state`, changedAt: sql`excluded.changed_at`, changedBy: sql`excluded.changed_by` },
          setWhere: ne(agentStates.state, 'retired'),
        });
      return result.rowCount === 1;
    },
  };
}
