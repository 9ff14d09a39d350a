// Where people decide waiting requests (CIBA, device code, paused exchanges): the inbox page
// GET /approvals after sign-in, its forms POST /approvals/<id> (CSRF), and the same for apps and
// chat bots as JSON with a person's Passport (approvals-api.ts). Someone the approver rule does
// not name gets the answer an unknown id gets, so the forms cannot probe other people's requests.
// A request that needs a fresh sign-in (its step-up) and a session that does not meet it: Approve
// sends the person to sign in again at their upstream (acr_values / max_age, prompt=login) and back
// to the inbox, where they approve again.
import { Hono, type Context } from 'hono';
import { approverFrom } from '../consent/approvers.ts';
import { decideApproval, type Decision } from '../consent/approvals.ts';
import { sessionAuthentication } from '../authorize/flow.ts';
import type { Deps } from '../deps.ts';
import { startBrowserLogin } from '../federation/browser-login.ts';
import { isOAuthError } from '../oauth/errors.ts';
import type { SessionRecord } from '../store/ports.ts';
import { approvalsApiRoutes } from './approvals-api.ts';
import { inboxPage, loadInbox } from './approvals-pages.tsx';
import { browserKit, currentSession } from './browser.ts';
import { readForm } from './form.ts';
import { stepUpWords } from '../obligations/step-up.ts';
import { upstreamFailurePage } from './login-routes.tsx';
import { errorPage } from './pages.tsx';
import { approvalsPath } from './paths.ts';
import { findApproval } from '../consent/approvals.ts';

const loginRedirect = `/login?return_to=${encodeURIComponent(approvalsPath)}`;

/** The words and status of a decision's answer, for the page. */
export function decisionNotice(decision: Decision, clientName: string): { notice: string; status: 200 | 403 | 404 | 409 } {
  switch (decision.status) {
    case 'recorded': {
      const outcome = decision.record.status;
      if (outcome === 'denied') return { notice: `Denied: the request of ${clientName} is refused.`, status: 200 };
      if (outcome === 'pending') return { notice: `Your approval of the request of ${clientName} is recorded; it still needs another person's approval.`, status: 200 };
      return { notice: `Approved: ${clientName} may go ahead.`, status: 200 };
    }
    case 'not_found':
      return { notice: 'There is no such request waiting for your decision.', status: 404 };
    case 'closed':
      return { notice: 'That request is no longer open: it was already decided, or it expired.', status: 409 };
    case 'duplicate':
      return { notice: 'You have already decided on that request.', status: 409 };
    case 'step_up':
      return { notice: `Approving this request needs a fresh sign-in with ${stepUpWords(decision.stepUp)}.`, status: 403 };
  }
}

export function approvalsRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;

  app.route('/', approvalsApiRoutes(deps));

  /** The inbox from its newest request, or from `cursor` (the "Show older requests" link). */
  async function show(c: Context, session: SessionRecord, notice?: string, status?: 200 | 400 | 403 | 404 | 409, cursor?: string): Promise<Response> {
    const inbox = await loadInbox(deps, approverFrom(session.sub, session.claims), sessionAuthentication(session), { cursor });
    return inboxPage(c, { who: who(session), csrf: kit.csrfFor(c), inbox, later: cursor !== undefined, now: deps.now(), notice, status });
  }

  /**
   * After the redirect from a decision (?decided=<id>): its outcome, read from the stored request and
   * only if this person decided it, so a link cannot make the page say anything else.
   */
  async function decidedNotice(session: SessionRecord, id: string | undefined): Promise<string | undefined> {
    if (!id || id.length > 100) return undefined;
    const record = await findApproval(deps, id);
    if (!record?.decisions.some((d) => d.approverSub === session.sub)) return undefined;
    return decisionNotice({ status: 'recorded', record }, deps.config.clients.get(record.clientId)?.name ?? record.clientId).notice;
  }

  app.get(approvalsPath, async (c) => {
    const session = await currentSession(deps, c);
    if (!session) return c.redirect(loginRedirect, 303);
    const cursor = c.req.query('cursor');
    try {
      return await show(c, session, await decidedNotice(session, c.req.query('decided')), undefined, cursor || undefined);
    } catch (error) {
      if (isOAuthError(error) && error.status < 500) return errorPage(c, 400, 'Invalid link', 'This page link is not valid. Open your approvals again.');
      throw error;
    }
  });

  // 1 read the form  2 CSRF  3 signed in  4 a known decision  5 decide (a step-up short: sign in
  // again, back to the inbox)  6 recorded: redirect-after-POST to the inbox, which says the outcome
  // (a reload then repeats nothing); refused: the inbox with why, and the status saying so.
  app.post(`${approvalsPath}/:id`, async (c) => {
    let form;
    try {
      form = await readForm(c, maxBytes);
    } catch (error) {
      if (isOAuthError(error) && error.status < 500) return errorPage(c, 400, 'Invalid request', error.description);
      throw error;
    }
    if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser. Please open your approvals again.');
    const session = await currentSession(deps, c);
    if (!session) return c.redirect(loginRedirect, 303);
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') return show(c, session, 'Choose Approve or Deny.', 400);
    const id = c.req.param('id');
    const result = await decideApproval(deps, id, approverFrom(session.sub, session.claims), decision, sessionAuthentication(session));
    if (result.status === 'step_up') {
      try {
        const url = await startBrowserLogin(deps, session.upstreamId, { browserId: kit.browserId(c), visitor: kit.visitor(c), returnTo: approvalsPath, prompt: 'login', ...(result.stepUp.acr !== undefined ? { acrValues: result.stepUp.acr } : {}), ...(result.stepUp.maxAge !== undefined ? { maxAge: result.stepUp.maxAge } : {}) });
        return c.redirect(url.href, 303);
      } catch (error) {
        return upstreamFailurePage(deps, c, error);
      }
    }
    deps.log.info({ req_id: c.get('requestId'), approval: result.status === 'recorded' ? id : undefined, result: result.status, outcome: result.status === 'recorded' ? result.record.status : undefined, via: 'inbox' }, 'approval decision');
    if (result.status === 'recorded') return c.redirect(`${approvalsPath}?decided=${encodeURIComponent(id)}`, 303);
    const { notice, status } = decisionNotice(result, '');
    return show(c, session, notice, status);
  });

  return app;
}

function who(session: SessionRecord): string {
  for (const name of ['name', 'email']) if (typeof session.claims[name] === 'string' && session.claims[name]) return session.claims[name] as string;
  return session.sub;
}
