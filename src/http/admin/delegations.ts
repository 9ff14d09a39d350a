// /admin/v1/delegations: live (unexpired) delegations, newest first, filtered by person or agent,
// and revocation through delegation/revoke.ts (the service the CLI and account page call): the
// delegation and every Passport minted under it are revoked, and the receipt names the operator.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { formatAmount } from '../../delegation/budget.ts';
import { revokeDelegation } from '../../delegation/revoke.ts';
import type { Deps } from '../../deps.ts';
import type { DelegationRecord } from '../../store/ports.ts';
import { needs, operatorOf } from './operator-auth.ts';
import { conflictProblem, notFoundProblem } from './problem.ts';
import { conflictResponse, CursorQuery, decodeCursor, encodeCursor, errorResponses, json, LimitQuery, notFoundResponse, requires } from './schemas.ts';

const DelegationSchema = z
  .object({
    did: z.string(),
    sub: z.string().openapi({ description: 'The person represented.' }),
    agent: z.string().openapi({ description: 'The client the delegation was made to.' }),
    resource: z.string().optional(),
    origin: z.string(),
    created_at: z.number().int(),
    expires_at: z.number().int(),
    revoked_at: z.number().int().optional(),
    revoked_by: z.string().optional(),
    budget: z.object({ uses: z.number().int().optional(), used_uses: z.number().int().optional(), amount: z.string().optional(), used_amount: z.string().optional(), currency: z.string().optional() }).optional(),
  })
  .openapi('Delegation');
const DelegationPage = z.object({ delegations: z.array(DelegationSchema), next_cursor: z.string().optional() }).openapi('DelegationPage');

/** Listing reads this many at most per page walk; deeper pages are refused (narrow the filter instead). */
const maxDepth = 2000;

const view = (r: DelegationRecord) => ({
  did: r.did,
  sub: r.sub,
  agent: r.clientId,
  ...(r.resource !== undefined ? { resource: r.resource } : {}),
  origin: r.origin,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
  ...(r.revokedAt !== undefined ? { revoked_at: r.revokedAt } : {}),
  ...(r.revokedBy !== undefined ? { revoked_by: r.revokedBy } : {}),
  ...(r.budget
    ? {
        budget: {
          ...(r.budget.uses !== undefined ? { uses: r.budget.uses, used_uses: r.used.uses } : {}),
          ...(r.budget.amountMicros !== undefined ? { amount: formatAmount(r.budget.amountMicros), used_amount: formatAmount(r.used.amountMicros), ...(r.budget.currency ? { currency: r.budget.currency } : {}) } : {}),
        },
      }
    : {}),
});

export function delegationRoutes(app: OpenAPIHono, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/delegations', tags: ['delegations'], summary: 'List live delegations', description: 'Unexpired delegations (revoked ones too, marked so), newest first.',
      security: requires('delegations:read'), middleware: [needs('delegations:read')] as const,
      request: {
        query: z.object({
          sub: z.string().min(1).max(200).optional().openapi({ description: 'Only this person\'s.' }),
          agent: z.string().min(1).max(200).optional().openapi({ description: 'Only those made to this client.' }),
          limit: LimitQuery,
          cursor: CursorQuery,
        }),
      },
      responses: { 200: json(DelegationPage, 'One page of delegations.'), ...errorResponses },
    }),
    async (c) => {
      const { sub, agent, limit, cursor } = c.req.valid('query');
      // The store lists newest first without a position; the cursor is the count already shown.
      const skip = decodeCursor(cursor, z.object({ skip: z.number().int().min(1).max(maxDepth) }))?.skip ?? 0;
      const records = await deps.store.delegations.list({ ...(sub !== undefined ? { sub } : {}), ...(agent !== undefined ? { clientIds: [agent] } : {}), limit: skip + limit + 1 }, deps.now());
      const page = records.slice(skip, skip + limit);
      const more = records.length > skip + limit && skip + limit < maxDepth;
      return c.json({ delegations: page.map(view), ...(more ? { next_cursor: encodeCursor({ skip: skip + limit }) } : {}) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post', path: '/delegations/{did}/revoke', tags: ['delegations'], summary: 'Revoke a delegation', description: 'Revokes the delegation and every Passport minted under it. A receipt names the operator.',
      security: requires('delegations:write'), middleware: [needs('delegations:write')] as const,
      request: { params: z.object({ did: z.string().min(1).max(200).openapi({ param: { name: 'did', in: 'path' } }) }) },
      responses: { 200: json(DelegationSchema, 'The delegation, now revoked.'), ...errorResponses, ...notFoundResponse, ...conflictResponse },
    }),
    async (c) => {
      const { did } = c.req.valid('param');
      const outcome = await revokeDelegation(deps.store, deps.receipts, did, 'operator', { operator: operatorOf(c) }, deps.now());
      if (outcome.status === 'unknown') throw notFoundProblem(`no delegation ${did}`);
      if (outcome.status === 'already_revoked') throw conflictProblem(`delegation ${did} was already revoked`, { delegation: view(outcome.record) });
      return c.json(view(outcome.record), 200);
    },
  );
}
