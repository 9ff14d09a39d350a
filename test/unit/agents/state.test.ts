// An agent's state in force: the database's row when there is one, else its file's `state:`; a file
// saying retired is final whatever the row says. The lifecycle service keeps those promises and
// writes a receipt naming who changed what; clients that are not agents never cost a read.
import { describe, expect, it } from 'vitest';
import { changeAgentState } from '../../../src/agents/lifecycle.ts';
import { chainStates, effectiveState, withCurrentState } from '../../../src/agents/state.ts';
import { createReceipts } from '../../../src/audit/receipts.ts';
import { clientSchema, type ClientConfig } from '../../../src/config/schema.ts';
import type { AgentStateStore } from '../../../src/store/ports.ts';
import { forEachBackend } from '../store/backends.ts';

const agent = (clientId: string, state: ClientConfig['state'] = 'active'): ClientConfig =>
  clientSchema.parse({ client_id: clientId, kind: 'agent', owner: 'owner@example.test', state, token_endpoint_auth_method: 'client_secret_basic', secret_hash: 'sha256:x', delegation: { act_for: { anyone: true } } });
const app = clientSchema.parse({ client_id: 'app', token_endpoint_auth_method: 'client_secret_basic', secret_hash: 'sha256:x' });
const row = (state: ClientConfig['state']) => ({ clientId: 'bot', state, changedAt: 100, changedBy: 'operator:cli:ada' });

describe('effectiveState', () => {
  it('the row wins over the file, except a file saying retired', () => {
    expect(effectiveState('active', undefined)).toMatchObject({ state: 'active', source: 'config' });
    expect(effectiveState('suspended', undefined)).toMatchObject({ state: 'suspended', source: 'config' });
    expect(effectiveState('active', row('suspended'))).toMatchObject({ state: 'suspended', source: 'runtime', declared: 'active' });
    expect(effectiveState('suspended', row('active'))).toMatchObject({ state: 'active', source: 'runtime' });
    expect(effectiveState('retired', row('active'))).toMatchObject({ state: 'retired', source: 'config' });
  });
});

describe('reads', () => {
  /** A store that counts its reads. */
  const counting = (rows: Record<string, ClientConfig['state']>) => {
    const reads: string[] = [];
    const store: AgentStateStore = {
      async find(id) {
        reads.push(id);
        return rows[id] ? { ...row(rows[id]), clientId: id } : undefined;
      },
      async findMany(ids) {
        reads.push(...ids);
        return ids.flatMap((id) => (rows[id] ? [{ ...row(rows[id]), clientId: id }] : []));
      },
      list: async () => [],
      set: async () => true,
    };
    return { store, reads };
  };

  it('only agents cost a read; a file saying retired needs none', async () => {
    const { store, reads } = counting({ bot: 'suspended', app: 'suspended' });
    expect(await withCurrentState(store, app)).toBe(app);
    expect(await withCurrentState(store, agent('old', 'retired'))).toMatchObject({ state: 'retired' });
    expect(reads).toEqual([]);
    expect(await withCurrentState(store, agent('bot'))).toMatchObject({ client_id: 'bot', state: 'suspended' });
    expect(reads).toEqual(['bot']);
  });

  it('chainStates: the actor as resolved, the other agents of the chain in one read, unknown clients absent', async () => {
    const { store, reads } = counting({ first: 'suspended', actor: 'suspended' });
    const clients = new Map([['actor', agent('actor')], ['first', agent('first')], ['app', app]]);
    const states = await chainStates(store, clients, ['actor', 'first', 'app', 'gone'], agent('actor'));
    expect(Object.fromEntries(states)).toEqual({ actor: 'active', first: 'suspended', app: 'active' });
    expect(reads).toEqual(['first']);
    expect(await chainStates(store, clients, ['actor'], agent('actor'))).toEqual(new Map([['actor', 'active']]));
    expect(reads).toEqual(['first']);
  });
});

forEachBackend('the agent lifecycle service', (backend) => {
  const clients = new Map([['bot', agent('bot')], ['old', agent('old', 'retired')], ['app', app]]);
  const change = (id: string, how: 'suspend' | 'resume' | 'retire') => changeAgentState({ config: { clients }, store: backend.store, receipts: createReceipts(backend.store.audit, () => 5_000), now: () => 5 }, id, how, 'person:p-ada');

  it('changes and records; the same state again changes and records nothing; a file saying retired refuses', async () => {
    expect(await change('bot', 'resume')).toEqual({ status: 'unchanged', state: 'active' });
    expect(await change('bot', 'suspend')).toEqual({ status: 'changed', from: 'active', record: { clientId: 'bot', state: 'suspended', changedAt: 5, changedBy: 'person:p-ada' } });
    expect(await change('bot', 'suspend')).toEqual({ status: 'unchanged', state: 'suspended' });
    expect(await change('old', 'resume')).toEqual({ status: 'retired' });
    expect(await change('old', 'retire')).toEqual({ status: 'unchanged', state: 'retired' });
    expect(await change('app', 'suspend')).toEqual({ status: 'not_agent', kind: 'client' });
    expect(await change('nobody', 'retire')).toEqual({ status: 'unknown' });
    expect((await backend.store.agentStates.list()).map((r) => r.clientId)).toEqual(['bot']);
    const receipts = await backend.store.audit.list();
    expect(receipts).toMatchObject([{ event: 'agent.suspended', clientId: 'bot', details: { by: 'person:p-ada', from: 'active', to: 'suspended', from_source: 'config' } }]);
  });
});
