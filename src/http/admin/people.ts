// /admin/v1/people/{sub}/…: a person's browser sessions (list, end: the session cookie stops
// working on every node, as a sign-out; receipt session.ended naming the operator) and personal
// access tokens (list, revoke through pats/pats.ts: the Passports exchanged from it go with it).
// Neither shows a secret: sessions by their public sid, tokens by their id, never the token.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Deps } from '../../deps.ts';
import { revokePat } from '../../pats/pats.ts';
import type { PatRecord, SessionRecord } from '../../store/ports.ts';
import { needs, operatorOf } from './operator-auth.ts';
import { notFoundProblem } from './problem.ts';
import { errorResponses, json, notFoundResponse, requires } from './schemas.ts';

const SessionSchema = z
  .object({
    sid: z.string().openapi({ description: 'The public session id (`sid` in ID tokens).' }),
    upstream: z.string().openapi({ description: 'The upstream the person signed in with.' }),
    auth_time: z.number().int(),
    created_at: z.number().int(),
    expires_at: z.number().int(),
  })
  .openapi('Session');
const PatSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    resource: z.string(),
    scopes: z.array(z.string()),
    created_at: z.number().int(),
    expires_at: z.number().int(),
    last_used_at: z.number().int().optional(),
    revoked_at: z.number().int().optional(),
  })
  .openapi('PersonalAccessToken');

const Sub = z.string().min(1).max(200).openapi({ param: { name: 'sub', in: 'path' }, description: 'The person\'s subject id at Consulate.' });
const sessionView = (s: SessionRecord) => ({ sid: s.sid, upstream: s.upstreamId, auth_time: s.authTime, created_at: s.createdAt, expires_at: s.expiresAt });
const patView = (p: PatRecord) => ({
  id: p.id,
  name: p.name,
  resource: p.resource,
  scopes: p.scopes,
  created_at: p.createdAt,
  expires_at: p.expiresAt,
  ...(p.lastUsedAt !== undefined ? { last_used_at: p.lastUsedAt } : {}),
  ...(p.revokedAt !== undefined ? { revoked_at: p.revokedAt } : {}),
});

export function peopleRoutes(app: OpenAPIHono, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/people/{sub}/sessions', tags: ['sessions'], summary: 'List a person\'s sessions', description: 'Live browser sessions, newest first.',
      security: requires('sessions:read'), middleware: [needs('sessions:read')] as const,
      request: { params: z.object({ sub: Sub }) },
      responses: { 200: json(z.object({ sessions: z.array(SessionSchema) }).openapi('SessionList'), 'The person\'s live sessions.'), ...errorResponses },
    }),
    async (c) => c.json({ sessions: (await deps.store.logins.sessionsOf(c.req.valid('param').sub, deps.now())).map(sessionView) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post', path: '/people/{sub}/sessions/{sid}/end', tags: ['sessions'], summary: 'End a person\'s session', description: 'As a sign-out: the session cookie stops working on every node. A receipt names the operator.',
      security: requires('sessions:write'), middleware: [needs('sessions:write')] as const,
      request: { params: z.object({ sub: Sub, sid: z.string().min(1).max(200).openapi({ param: { name: 'sid', in: 'path' } }) }) },
      responses: { 200: json(SessionSchema, 'The session, now ended.'), ...errorResponses, ...notFoundResponse },
    }),
    async (c) => {
      const { sub, sid } = c.req.valid('param');
      const ended = await deps.store.logins.endSessionOf(sub, sid);
      if (!ended) throw notFoundProblem(`no session ${sid} of ${sub}`);
      await deps.receipts.record({ event: 'session.ended', subject: sub, details: { via: 'admin', sid, by: operatorOf(c) } });
      return c.json(sessionView(ended), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/people/{sub}/pats', tags: ['pats'], summary: 'List a person\'s personal access tokens', description: 'Unexpired tokens (revoked ones too, marked so), newest first; never the token itself.',
      security: requires('pats:read'), middleware: [needs('pats:read')] as const,
      request: { params: z.object({ sub: Sub }) },
      responses: { 200: json(z.object({ pats: z.array(PatSchema) }).openapi('PersonalAccessTokenList'), 'The person\'s tokens.'), ...errorResponses },
    }),
    async (c) => c.json({ pats: (await deps.store.pats.list(c.req.valid('param').sub, deps.now())).map(patView) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post', path: '/people/{sub}/pats/{id}/revoke', tags: ['pats'], summary: 'Revoke a person\'s personal access token', description: 'The Passports exchanged from it are revoked with it. A receipt names the operator.',
      security: requires('pats:write'), middleware: [needs('pats:write')] as const,
      request: { params: z.object({ sub: Sub, id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: json(PatSchema, 'The token, now revoked.'), ...errorResponses, ...notFoundResponse },
    }),
    async (c) => {
      const { sub, id } = c.req.valid('param');
      const now = deps.now();
      const live = (await deps.store.pats.list(sub, now)).find((p) => p.id === id && p.revokedAt === undefined);
      if (!live || !(await revokePat(deps, id, { operator: operatorOf(c) }))) throw notFoundProblem(`no live personal access token ${id} of ${sub}`);
      return c.json(patView({ ...live, revokedAt: now }), 200);
    },
  );
}
