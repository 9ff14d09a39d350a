// /admin/v1/agents: the agents config lists, with the lifecycle state in force (agents/state.ts), and
// suspend / resume / retire through agents/lifecycle.ts, the service the CLI calls. A change is
// runtime state in the database (every node applies it to its next request) and a receipt naming
// the operator; the agent's file is never edited.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { changeAgentState, lifecycleChanges, type LifecycleChange } from '../../agents/lifecycle.ts';
import { effectiveState, type EffectiveState } from '../../agents/state.ts';
import type { ClientConfig } from '../../config/schema.ts';
import type { Deps } from '../../deps.ts';
import { needs, operatorOf } from './operator-auth.ts';
import { conflictProblem, notFoundProblem } from './problem.ts';
import { conflictResponse, CursorQuery, decodeCursor, encodeCursor, errorResponses, json, LimitQuery, notFoundResponse, requires } from './schemas.ts';

const AgentSchema = z
  .object({
    client_id: z.string(),
    name: z.string().optional(),
    owner: z.string().optional().openapi({ description: 'The e-mail of the person who owns the agent.' }),
    state: z.enum(['active', 'suspended', 'retired']).openapi({ description: 'The state in force now.' }),
    source: z.enum(['runtime', 'config']).openapi({ description: 'runtime: set over the API, CLI or account page (in the database); config: the file\'s `state:`.' }),
    declared_state: z.enum(['active', 'suspended', 'retired']).openapi({ description: 'The state the agent\'s file declares.' }),
    changed_at: z.number().int().optional().openapi({ description: 'Epoch seconds of the last runtime change.' }),
    changed_by: z.string().optional().openapi({ description: 'Who made the last runtime change (operator:<client_id>, person:<sub>, operator:cli:<user>).' }),
  })
  .openapi('Agent');

const AgentPage = z.object({ agents: z.array(AgentSchema), next_cursor: z.string().optional() }).openapi('AgentPage');
const AgentId = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' }, description: 'The agent\'s client_id.' }) });
const ChangeResult = z
  .object({ agent: AgentSchema, changed: z.boolean().openapi({ description: 'false: the agent already was in that state.' }) })
  .openapi('AgentChange');

export const agentView = (agent: ClientConfig, current: EffectiveState) => ({
  client_id: agent.client_id,
  ...(agent.name !== undefined ? { name: agent.name } : {}),
  ...(agent.owner !== undefined ? { owner: agent.owner } : {}),
  state: current.state,
  source: current.source,
  declared_state: current.declared,
  ...(current.record ? { changed_at: current.record.changedAt, changed_by: current.record.changedBy } : {}),
});

/** The agents config lists, by client_id, with their states in force (one read for the page). */
export async function listAgents(deps: Deps, options: { after?: string | undefined; limit: number }) {
  const all = [...deps.config.clients.values()].filter((c) => c.kind === 'agent').sort((a, b) => (a.client_id < b.client_id ? -1 : 1));
  const rest = options.after === undefined ? all : all.filter((a) => a.client_id > (options.after as string));
  const page = rest.slice(0, options.limit);
  const records = new Map((await deps.store.agentStates.findMany(page.map((a) => a.client_id))).map((r) => [r.clientId, r]));
  const agents = page.map((agent) => agentView(agent, effectiveState(agent.state, records.get(agent.client_id))));
  return { agents, ...(rest.length > page.length && page.length ? { next_cursor: encodeCursor({ after: page.at(-1)!.client_id }) } : {}) };
}

async function oneAgent(deps: Deps, id: string) {
  const agent = deps.config.clients.get(id);
  if (!agent || agent.kind !== 'agent') throw notFoundProblem(`no agent ${id}`);
  return agentView(agent, effectiveState(agent.state, await deps.store.agentStates.find(id)));
}

/** Runs a lifecycle change for `by`, as the API and the admin page answer it. */
export async function changeAgent(deps: Deps, id: string, change: LifecycleChange, by: string) {
  const result = await changeAgentState(deps, id, change, by);
  switch (result.status) {
    case 'unknown':
    case 'not_agent':
      throw notFoundProblem(`no agent ${id}`);
    case 'retired':
      throw conflictProblem(`agent ${id} is retired: retirement is final`);
    case 'unchanged':
    case 'changed':
      return { agent: await oneAgent(deps, id), changed: result.status === 'changed' };
  }
}

export function agentRoutes(app: OpenAPIHono, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/agents', tags: ['agents'], summary: 'List agents', security: requires('agents:read'), middleware: [needs('agents:read')] as const,
      request: { query: z.object({ limit: LimitQuery, cursor: CursorQuery }) },
      responses: { 200: json(AgentPage, 'Agents by client_id, with their states in force.'), ...errorResponses },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const after = decodeCursor(cursor, z.object({ after: z.string() }))?.after;
      return c.json(await listAgents(deps, { after, limit }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/agents/{id}', tags: ['agents'], summary: 'Get an agent', security: requires('agents:read'), middleware: [needs('agents:read')] as const,
      request: { params: AgentId },
      responses: { 200: json(AgentSchema, 'The agent and its state in force.'), ...errorResponses, ...notFoundResponse },
    }),
    async (c) => c.json(await oneAgent(deps, c.req.valid('param').id), 200),
  );
  for (const change of Object.keys(lifecycleChanges) as LifecycleChange[]) {
    app.openapi(
      createRoute({
        method: 'post', path: `/agents/{id}/${change}`, tags: ['agents'], summary: `${change[0]!.toUpperCase()}${change.slice(1)} an agent`,
        description: change === 'retire' ? 'Final: a retired agent cannot be resumed.' : 'Runtime state: every node applies it to its next request. A receipt names the operator.',
        security: requires('agents:write'), middleware: [needs('agents:write')] as const,
        request: { params: AgentId },
        responses: { 200: json(ChangeResult, 'The agent after the change.'), ...errorResponses, ...notFoundResponse, ...conflictResponse },
      }),
      async (c) => c.json(await changeAgent(deps, c.req.valid('param').id, change, operatorOf(c)), 200),
    );
  }
}
