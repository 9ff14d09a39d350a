// /admin/v1/approvals: the requests waiting for a person's decision (CIBA, device, paused exchanges),
// oldest first, and cancelling one (consent/cancel-approval.ts): it ends denied, the client hears
// access_denied, and a receipt names the operator. What was asked (scopes, binding message) stays
// with the approvers' inbox: the list shows who, for whom and until when.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { cancelApproval } from '../../consent/cancel-approval.ts';
import type { Deps } from '../../deps.ts';
import type { ApprovalRecord } from '../../store/ports.ts';
import { needs, operatorOf } from './operator-auth.ts';
import { conflictProblem, notFoundProblem } from './problem.ts';
import { conflictResponse, CursorQuery, decodeCursor, encodeCursor, errorResponses, json, LimitQuery, notFoundResponse, requires } from './schemas.ts';

const ApprovalSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['ciba', 'device', 'exchange']),
    agent: z.string().openapi({ description: 'The client that asked.' }),
    sub: z.string().optional().openapi({ description: 'The person asked about (a device request has none until claimed).' }),
    status: z.enum(['pending', 'approved', 'denied', 'issued']),
    approvers: z.enum(['subject', 'manager', 'dual']).openapi({ description: 'Whose decision it waits for.' }),
    decisions: z.number().int().openapi({ description: 'Decisions recorded so far.' }),
    created_at: z.number().int(),
    expires_at: z.number().int(),
  })
  .openapi('Approval');
const ApprovalPage = z.object({ approvals: z.array(ApprovalSchema), next_cursor: z.string().optional() }).openapi('ApprovalPage');

export const approvalView = (r: ApprovalRecord) => ({
  id: r.id,
  kind: r.kind,
  agent: r.clientId,
  ...(r.sub !== undefined ? { sub: r.sub } : {}),
  status: r.status,
  approvers: r.approvers.kind,
  decisions: r.decisions.length,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
});

const byAge = (a: ApprovalRecord, b: ApprovalRecord) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Open requests after `after` (createdAt, id), oldest first. */
export async function listPending(deps: Deps, options: { after?: { t: number; id: string } | undefined; limit: number }) {
  const open = (await deps.store.approvals.listOpen(deps.now(), 1000)).sort(byAge);
  const { after } = options;
  const rest = after ? open.filter((r) => r.createdAt > after.t || (r.createdAt === after.t && r.id > after.id)) : open;
  const page = rest.slice(0, options.limit);
  const last = page.at(-1);
  return { approvals: page.map(approvalView), ...(rest.length > page.length && last ? { next_cursor: encodeCursor({ t: last.createdAt, id: last.id }) } : {}) };
}

export function approvalRoutes(app: OpenAPIHono, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/approvals', tags: ['approvals'], summary: 'List pending approval requests', description: 'Open (pending, unexpired) requests, oldest first.',
      security: requires('approvals:read'), middleware: [needs('approvals:read')] as const,
      request: { query: z.object({ limit: LimitQuery, cursor: CursorQuery }) },
      responses: { 200: json(ApprovalPage, 'One page of pending requests.'), ...errorResponses },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await listPending(deps, { after: decodeCursor(cursor, z.object({ t: z.number().int(), id: z.string() })), limit }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post', path: '/approvals/{id}/cancel', tags: ['approvals'], summary: 'Cancel a pending approval request', description: 'It ends denied: the client\'s next poll gets access_denied. A receipt names the operator.',
      security: requires('approvals:write'), middleware: [needs('approvals:write')] as const,
      request: { params: z.object({ id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: json(ApprovalSchema, 'The request, now denied.'), ...errorResponses, ...notFoundResponse, ...conflictResponse },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const outcome = await cancelApproval(deps, id, operatorOf(c));
      if (outcome.status === 'unknown') throw notFoundProblem(`no approval request ${id}`);
      if (outcome.status !== 'cancelled') throw conflictProblem(`approval request ${id} is no longer pending`);
      return c.json(approvalView(outcome.record), 200);
    },
  );
}
