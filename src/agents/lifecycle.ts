// Suspending, resuming and retiring an agent: the one service the CLI calls (and, later, the
// owner's account page and the admin API). The change is runtime state in the database, so every
// node applies it to its very next request; the agent's config file is never edited.
// 1 the agent (config lists it, kind agent)  2 retired is final (file or database); the same state
// again changes nothing  3 one statement sets it (refused if a retirement got there first)
// 4 the receipt, naming who did it. The state is written before the receipt: a kill switch must not
// wait on, or be undone by, an audit write that fails; that failure is reported to the caller.
import type { Receipts, ReceiptEvent } from '../audit/receipts.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { AgentState, AgentStateRecord, AgentStateStore } from '../store/ports.ts';
import { effectiveState, type EffectiveState } from './state.ts';

export type LifecycleChange = 'suspend' | 'resume' | 'retire';

export const lifecycleChanges: Readonly<Record<LifecycleChange, { to: AgentState; event: ReceiptEvent }>> = {
  suspend: { to: 'suspended', event: 'agent.suspended' },
  resume: { to: 'active', event: 'agent.resumed' },
  retire: { to: 'retired', event: 'agent.retired' },
};

export type LifecycleDeps = {
  readonly config: { readonly clients: ReadonlyMap<string, ClientConfig> };
  readonly store: { readonly agentStates: AgentStateStore };
  readonly receipts: Receipts;
  /** Epoch seconds. */
  readonly now: () => number;
};

export type LifecycleResult =
  | { status: 'changed'; from: AgentState; record: AgentStateRecord }
  | { status: 'unchanged'; state: AgentState }
  | { status: 'retired' }
  | { status: 'unknown' }
  | { status: 'not_agent'; kind: string };

/** Thrown after the state changed when its receipt could not be written. */
export class ReceiptNotWrittenError extends Error {
  override name = 'ReceiptNotWrittenError';
}

/** The state in force for a listed agent, and where it comes from. */
export async function agentState(deps: Pick<LifecycleDeps, 'store'>, agent: ClientConfig): Promise<EffectiveState> {
  return effectiveState(agent.state, await deps.store.agentStates.find(agent.client_id));
}

/** `by`: who asks, as it goes into the receipt and the row (operator:cli:<user>, person:<sub>, …). */
export async function changeAgentState(deps: LifecycleDeps, clientId: string, change: LifecycleChange, by: string): Promise<LifecycleResult> {
  const { to, event } = lifecycleChanges[change];
  // 1.
  const agent = deps.config.clients.get(clientId);
  if (!agent) return { status: 'unknown' };
  if (agent.kind !== 'agent') return { status: 'not_agent', kind: agent.kind };
  // 2.
  const current = await agentState(deps, agent);
  if (current.state === 'retired') return to === 'retired' ? { status: 'unchanged', state: 'retired' } : { status: 'retired' };
  if (current.state === to) return { status: 'unchanged', state: to };
  // 3.
  const record: AgentStateRecord = { clientId, state: to, changedAt: deps.now(), changedBy: by };
  if (!(await deps.store.agentStates.set(record))) return to === 'retired' ? { status: 'unchanged', state: 'retired' } : { status: 'retired' };
  // 4.
  try {
    await deps.receipts.record({ event, clientId, details: { by, from: current.state, to, from_source: current.source } });
  } catch (error) {
    throw new ReceiptNotWrittenError(`agent ${clientId} is now ${to}, but its receipt could not be written: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { status: 'changed', from: current.state, record };
}
