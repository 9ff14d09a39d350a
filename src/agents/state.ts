// An agent's effective lifecycle state: its runtime state in the database when it has one (set
// through agents/lifecycle.ts, by any node or the CLI), else the `state:` of its config file, the
// declared default. A file saying retired stays retired whatever the database says.
// Read on every decision about an agent (token endpoint, CIBA/device requests, introspection), with
// no per-node cache, so a suspension made anywhere holds on every node for the very next request.
// Clients of kind `client` have no lifecycle: they never cost a read.
import type { ClientConfig } from '../config/schema.ts';
import type { AgentState, AgentStateRecord, AgentStateStore } from '../store/ports.ts';

export type EffectiveState = {
  state: AgentState;
  /** runtime: the database row decides; config: the file's `state:` (no row, or the file says retired). */
  source: 'runtime' | 'config';
  /** The file's `state:`. */
  declared: AgentState;
  record?: AgentStateRecord | undefined;
};

/** Pure: what the file declares and what the database holds, combined. */
export function effectiveState(declared: AgentState, record: AgentStateRecord | undefined): EffectiveState {
  if (declared === 'retired' || record === undefined) return { state: declared, source: 'config', declared, record };
  return { state: record.state, source: 'runtime', declared, record };
}

/** The client with the state in force now: one primary-key read for an agent, none for any other client. */
export async function withCurrentState<C extends ClientConfig>(store: AgentStateStore, client: C): Promise<C> {
  if (client.kind !== 'agent' || client.state === 'retired') return client;
  const { state } = effectiveState(client.state, await store.find(client.client_id));
  return state === client.state ? client : { ...client, state };
}

/**
 * The state in force of every client of an actor chain that config lists, for the delegation policy
 * (a client it does not list is absent: unknown, so inactive). `actor` is already current (the
 * directory resolved it), so it costs nothing; the other agents of the chain cost one read together.
 */
export async function chainStates(store: AgentStateStore, clients: ReadonlyMap<string, ClientConfig>, chain: readonly string[], actor?: ClientConfig): Promise<ReadonlyMap<string, AgentState>> {
  const states = new Map<string, AgentState>();
  const agents: ClientConfig[] = [];
  for (const id of new Set(chain)) {
    const client = actor?.client_id === id ? actor : clients.get(id);
    if (!client) continue;
    states.set(id, client.state);
    if (client !== actor && client.kind === 'agent' && client.state !== 'retired') agents.push(client);
  }
  if (agents.length) {
    const records = new Map((await store.findMany(agents.map((a) => a.client_id))).map((r) => [r.clientId, r]));
    for (const agent of agents) states.set(agent.client_id, effectiveState(agent.state, records.get(agent.client_id)).state);
  }
  return states;
}
