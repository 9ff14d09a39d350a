// Agents' runtime lifecycle states on every backend (SQLite, PostgreSQL): what is set is what every
// store on the database reads next, and retirement is final, also when a resume races it.
import { expect, it } from 'vitest';
import type { AgentState } from '../../../src/store/ports.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('agent states', (backend) => {
  const set = (clientId: string, state: AgentState, changedAt = 100, changedBy = 'operator:cli:test') => backend.store.agentStates.set({ clientId, state, changedAt, changedBy });

  it('an agent without a row has none; set, find, findMany and list agree, and another node reads the change at once', async () => {
    const other = await backend.open();
    expect(await backend.store.agentStates.find('bot')).toBeUndefined();
    expect(await set('bot', 'suspended', 100, 'operator:cli:ada')).toBe(true);
    expect(await other.agentStates.find('bot')).toEqual({ clientId: 'bot', state: 'suspended', changedAt: 100, changedBy: 'operator:cli:ada' });
    expect(await other.agentStates.set({ clientId: 'bot', state: 'active', changedAt: 200, changedBy: 'person:p1' })).toBe(true);
    expect(await backend.store.agentStates.find('bot')).toEqual({ clientId: 'bot', state: 'active', changedAt: 200, changedBy: 'person:p1' });
    expect(await set('helper', 'suspended')).toBe(true);
    expect((await backend.store.agentStates.findMany(['helper', 'nobody', 'bot', 'helper'])).map((r) => r.clientId).sort()).toEqual(['bot', 'helper']);
    expect(await backend.store.agentStates.findMany([])).toEqual([]);
    expect((await other.agentStates.list()).map((r) => [r.clientId, r.state])).toEqual([['bot', 'active'], ['helper', 'suspended']]);
  });

  it('retired is final: nothing moves a retired agent, not even retiring it again', async () => {
    expect(await set('bot', 'retired', 100)).toBe(true);
    for (const state of ['active', 'suspended', 'retired'] as const) expect(await set('bot', state, 200)).toBe(false);
    expect(await backend.store.agentStates.find('bot')).toMatchObject({ state: 'retired', changedAt: 100 });
  });

  it('a state outside the three is refused by the database', async () => {
    await expect(set('bot', 'paused' as AgentState)).rejects.toThrow();
    expect(await backend.store.agentStates.find('bot')).toBeUndefined();
  });

  it('resumes racing a retirement from two nodes: every agent ends retired, never active after it', async () => {
    const other = await backend.open();
    const agents = Array.from({ length: 20 }, (_, i) => `racer-${i}`);
    for (const id of agents) await set(id, 'suspended');
    // Per agent, a resume before and after its retirement (or two after it), each pair from both nodes, all at once.
    const retirements: Promise<boolean>[] = [];
    const resumes: Promise<boolean>[] = [];
    agents.forEach((id, i) => {
      const [mine, theirs] = i % 2 ? [backend.store, other] : [other, backend.store];
      const resume = () => resumes.push(mine.agentStates.set({ clientId: id, state: 'active', changedAt: 300, changedBy: 'resumer' }));
      if (i % 3) resume();
      retirements.push(theirs.agentStates.set({ clientId: id, state: 'retired', changedAt: 300, changedBy: 'retirer' }));
      resume();
      if (!(i % 3)) resume();
    });
    await Promise.all(resumes);
    // Every retirement took (only an already retired agent refuses one), and no resume undid it.
    expect(await Promise.all(retirements)).toEqual(agents.map(() => true));
    const rows = await backend.store.agentStates.findMany(agents);
    expect(rows).toHaveLength(agents.length);
    expect(rows.filter((r) => r.state !== 'retired' || r.changedBy !== 'retirer')).toEqual([]);
  });
});
