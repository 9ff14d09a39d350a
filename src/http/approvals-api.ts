// The approval inbox as JSON, for a mobile app or a chat bot acting for a signed-in person:
//   GET  /approvals/api[?limit=&cursor=]
//        { approvals: [ { id, kind, client, ..., summary, expires_at } ], total, next_cursor }
//        newest first; `limit` 1–200 (default 50); `next_cursor` (null on the last page) is passed
//        back as `cursor` for the next page; a cursor that is not one of ours is 400 invalid_request.
//   POST /approvals/api/<id>     {"decision":"approve"|"deny"} → { approval, outcome }
// Authenticated with the person's own Passport as a Bearer token (RFC 6750 §2.1): one of ours, for
// Consulate itself (aud = issuer), from a person grant (auth_time), not revoked, not delegated (no
// act), not DPoP-bound (no proof is checked here), and not held by an agent or by the client that
// made the request, and carrying the `approvals` scope (deciding in the person's name is its own
// permission: a plain sign-in is not), never one issued on an approval (CIBA, device). Errors are
// RFC 6750 §3 challenges. No cookies are read, so no CSRF applies.
// A request that keeps a step-up is approved only with a Passport whose auth_time / acr meet it;
// else 401 insufficient_user_authentication with acr_values / max_age (RFC 9470 §3).
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { approverFrom, type Approver } from '../consent/approvers.ts';
import { decideApproval, findApproval } from '../consent/approvals.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Authentication } from '../obligations/step-up.ts';
import { parseLimit } from '../consent/inbox.ts';
import { loadInbox, progressWords, type ApprovalView } from './approvals-pages.tsx';
import { methodNotAllowed } from './errors.ts';
import { noStoreJson } from './respond.ts';
import { latestClaimsOf } from '../federation/subjects.ts';
import type { ChallengeParam } from '../oauth/www-authenticate.ts';
import { challengeError } from './challenges.ts';
import { audienceIs, fromAPersonGrant, notBound, notDelegated, notRevoked, passportAuth, requireScope } from './passport-auth.ts';
import { approvalsApiPath } from './paths.ts';

const decisionBody = z.strictObject({ decision: z.enum(['approve', 'deny']) });

type Caller = { approver: Approver; clientId: string; authentication: Authentication };

/** 1 the Passport (passportAuth)  2 a person's own, for us, for deciding  3 the approver from the stored claims. */
function callerPassport(deps: Deps): MiddlewareHandler {
  return passportAuth(deps, {
    dpop: false,
    rules: [
      audienceIs(() => deps.issuer, 'audience_not_consulate'),
      fromAPersonGrant,
      notDelegated,
      notBound,
      (claims) => (deps.config.clients.get(claims.client_id)?.kind === 'agent' ? 'agent_passport' : undefined),
      // Issued on an approval itself (CIBA, device): never a key to other approvals.
      (claims) => (claims.approval !== undefined ? 'approval_issued_passport' : undefined),
      // Deciding in the person's name is its own permission: a plain sign-in (openid) is not enough.
      requireScope('approvals', 'no_approvals_scope'),
      notRevoked(deps),
    ],
  });
}

async function callerOf(deps: Deps, c: Context): Promise<Caller> {
  const claims = c.get('passportClaims');
  if (claims === undefined || typeof claims.auth_time !== 'number') throw new Error('callerPassport must run before this route');
  return {
    approver: approverFrom(claims.sub, await latestClaimsOf(deps.store, claims.sub)),
    clientId: claims.client_id,
    authentication: { authTime: claims.auth_time, acr: typeof claims.acr === 'string' ? claims.acr : undefined },
  };
}

function asJson(view: ApprovalView) {
  const w = view.words;
  return {
    id: view.id,
    kind: view.kind,
    client: view.clientId,
    client_name: w.client,
    person: w.person,
    binding_message: w.bindingMessage,
    through: w.through,
    identity: w.identity,
    resource: w.resource,
    asks: w.asks,
    summary: w.summary,
    expires_at: view.expiresAt,
    approvals: { needed: view.needed, approved_by: view.approvedBy, words: progressWords(view) },
  };
}

async function readJson(c: Context, maxBytes: number): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) throw new OAuthError('invalid_request', 'content type must be application/json');
  const tooLarge = () => new OAuthError('request_too_large', `request body exceeds ${maxBytes} bytes`);
  if (Number(c.req.header('content-length') ?? '0') > maxBytes) throw tooLarge();
  // Read the stream and stop at the limit (a chunked body declares no length).
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = c.req.raw.body?.getReader();
  for (let next = await reader?.read(); reader && next && !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))) as unknown;
  } catch {
    throw new OAuthError('invalid_request', 'the body is not valid UTF-8 JSON');
  }
}

export function approvalsApiRoutes(deps: Deps): Hono {
  const app = new Hono();

  const passport = callerPassport(deps);

  app.get(approvalsApiPath, passport, async (c) => {
    const caller = await callerOf(deps, c);
    const query = new URL(c.req.url).searchParams;
    for (const name of ['limit', 'cursor']) if (query.getAll(name).length > 1) throw new OAuthError('invalid_request', `parameter ${name} must not be repeated`);
    const limit = parseLimit(query.get('limit') ?? undefined);
    const cursor = query.get('cursor') ?? undefined;
    // The client that made a request never decides it, even holding the person's Passport.
    const inbox = await loadInbox(deps, caller.approver, undefined, { limit, cursor: cursor || undefined, excludeClientId: caller.clientId });
    return noStoreJson(c, { approvals: inbox.views.map(asJson), total: inbox.total, next_cursor: inbox.nextCursor ?? null });
  });

  // 1 authenticate  2 the body  3 decide  4 answer (unknown, someone else's and the caller's own request alike: not_found).
  app.post(`${approvalsApiPath}/:id`, passport, async (c) => {
    const caller = await callerOf(deps, c);
    const parsed = decisionBody.safeParse(await readJson(c, deps.config.main.http.max_body_bytes));
    if (!parsed.success) throw new OAuthError('invalid_request', 'the body must be {"decision":"approve"} or {"decision":"deny"}');
    const id = c.req.param('id');
    const own = await findApproval(deps, id);
    const result = own && own.clientId === caller.clientId ? ({ status: 'not_found' } as const) : await decideApproval(deps, id, caller.approver, parsed.data.decision, caller.authentication);
    deps.log.info({ req_id: c.get('requestId'), approval: result.status === 'recorded' ? id : undefined, result: result.status, via: 'api' }, 'approval decision');
    switch (result.status) {
      case 'recorded':
        return noStoreJson(c, { approval: id, decision: parsed.data.decision, outcome: result.record.status });
      case 'not_found':
        throw new OAuthError('not_found', 'there is no such request waiting for your decision');
      case 'closed':
        throw new OAuthError('invalid_request', 'the request is no longer open', { status: 409, reason: 'closed' });
      case 'duplicate':
        throw new OAuthError('invalid_request', 'you have already decided on this request', { status: 409, reason: 'duplicate' });
      case 'step_up': {
        const { acr, maxAge } = result.stepUp;
        const wanted: ChallengeParam[] = [...(acr !== undefined ? [['acr_values', acr] as const] : []), ...(maxAge !== undefined ? [['max_age', maxAge] as const] : [])];
        const description = 'approving this request needs a fresh sign-in: get a new Passport, then decide again';
        throw challengeError('Bearer', 'insufficient_user_authentication', description, 'approver_step_up_required', { status: 401, params: wanted });
      }
    }
  });

  app.all(approvalsApiPath, methodNotAllowed('GET'));
  app.all(`${approvalsApiPath}/:id`, methodNotAllowed('POST'));
  return app;
}
