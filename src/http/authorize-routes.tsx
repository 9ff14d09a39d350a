// The authorization endpoint (GET and POST, RFC 6749 §3.1), its continuation after login, the
// consent form, and the account page (consents and delegations to revoke). Anything wrong before
// the redirect URI is known to be the client's own is a page, never a redirect (RFC 6749 §4.1.2.1).
import { resolveClient } from '../clients/directory.ts';
import { Hono, type Context } from 'hono';
import { completePushed, continueAuthorization, decideConsent, findPending, beginAuthorization, type Next } from '../authorize/flow.ts';
import { resolveAuthorizeParams } from '../authorize/pushed.ts';
import { AuthorizePageError, resolveTarget, validateRequest } from '../authorize/request.ts';
import type { Deps } from '../deps.ts';
import { revokeDelegation } from '../delegation/revoke.ts';
import { UpstreamError } from '../federation/connector.ts';
import { isOAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';
import type { SessionRecord } from '../store/ports.ts';
import { agentName, loadAccountDelegations, revokerRole } from './account-delegations.tsx';
import { accountPage, consentPage } from './authorize-pages.tsx';
import { browserKit, currentSession } from './browser.ts';
import { readForm } from './form.ts';
import { sendAuthorizationAnswer } from './authorize-answer.ts';
import { upstreamFailurePage } from './login-routes.tsx';
import { errorPage, pageHeaders } from './pages.tsx';
import { isRateLimited } from '../limits/limits.ts';
import { tooManyRequestsPage } from './limit-page.tsx';
import { sourceAddress } from './source.ts';
import { authorizePaths } from './paths.ts';
import { consentsOf, withdrawConsent } from '../authorize/consent.ts';
import { findDelegation } from '../delegation/records.ts';

const notRevocable = 'There is no such delegation among yours (it may have expired).';

export function authorizeRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;

  async function authorize(c: Context, read: () => Promise<Params>): Promise<Response> {
    return guarded(c, async () => {
      const params = await read();
      const clientId = params.get('client_id');
      const client = clientId === undefined ? undefined : await resolveClient(deps, clientId, sourceAddress(c, deps));
      if (!client) throw new AuthorizePageError('Unknown application', 'The application that sent you here is not registered.', 'unknown_client');
      // The browser first: a request_uri is bound to the browser that presents it.
      const browserId = kit.browserId(c);
      const resolved = await resolveAuthorizeParams(deps, client, params, browserId);
      const target = resolveTarget(client, resolved);
      let request;
      try {
        request = validateRequest(deps, client, resolved, target);
      } catch (error) {
        if (!isOAuthError(error)) throw error;
        await completePushed(deps, resolved.pushed);
        return answer(c, { kind: 'answer', target, client, result: { error } });
      }
      const session = await currentSession(deps, c);
      const id = await beginAuthorization(deps, request, browserId, session, resolved.pushed);
      const pending = await findPending(deps, id, browserId);
      return answer(c, await continueAuthorization(deps, pending, { browserId, visitor: kit.visitor(c), session, steppedUp: false }));
    });
  }

  app.get(authorizePaths.authorize, (c) => authorize(c, async () => parseFormParams(new URL(c.req.url).search.slice(1))));
  app.post(authorizePaths.authorize, (c) => authorize(c, () => readForm(c, maxBytes)));

  app.get(authorizePaths.continue, (c) =>
    guarded(c, async () => {
      const browserId = kit.browserId(c);
      const pending = await findPending(deps, c.req.query('id'), browserId);
      const session = await currentSession(deps, c);
      return answer(c, await continueAuthorization(deps, pending, { browserId, visitor: kit.visitor(c), session, steppedUp: c.req.query('stepped_up') === '1' }));
    }),
  );

  // Forms are read like every other body: urlencoded only and bounded (hono's parseBody is neither).
  app.post(authorizePaths.consent, (c) =>
    guarded(c, async () => {
      const form = await readForm(c, maxBytes);
      if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser. Please go back to the application and start again.');
      // Consent answers per browser (rate_limits.consent_pages); the CSRF check means it sent its cookie.
      const visitor = kit.visitor(c);
      await deps.rateLimits.consentAnswer(visitor.browser);
      const browser = { browserId: kit.browserId(c), visitor, session: await currentSession(deps, c), steppedUp: false };
      const pending = await findPending(deps, form.get('id'), browser.browserId);
      // Signed out (or the session expired) between page and answer: start from login again.
      if (!browser.session) return answer(c, await continueAuthorization(deps, pending, browser));
      return answer(c, await decideConsent(deps, pending, browser, form.get('decision') === 'allow'));
    }),
  );

  async function showAccount(c: Context, session: SessionRecord, notice?: string, status?: 200 | 404): Promise<Response> {
    const [consents, delegations] = await Promise.all([consentsOf(deps, session.sub), loadAccountDelegations(deps, session)]);
    return accountPage(c, deps, { csrf: kit.csrfFor(c), who: who(session.claims, session.sub), consents, delegations, notice, ...(status ? { status } : {}) });
  }

  app.get(authorizePaths.account, async (c) => {
    const session = await currentSession(deps, c);
    if (!session) return c.redirect(`/login?return_to=${encodeURIComponent(authorizePaths.account)}`, 303);
    return showAccount(c, session);
  });

  // Withdrawing consent also ends what was issued under it (authorize/consent.ts withdrawConsent).
  app.post(`${authorizePaths.account}/consents/revoke`, (c) =>
    guarded(c, async () => {
      const form = await readForm(c, maxBytes);
      if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.');
      const session = await currentSession(deps, c);
      if (!session) return c.redirect(`/login?return_to=${encodeURIComponent(authorizePaths.account)}`, 303);
      const clientId = form.get('client_id') ?? '';
      const { revoked } = await withdrawConsent(deps, session.sub, clientId);
      const client = deps.config.clients.get(clientId);
      return showAccount(c, session, revoked ? `Access of ${client?.name ?? clientId} withdrawn.` : undefined);
    }),
  );

  // Revoking a delegation: only the person it represents or the owner of its agent may, decided
  // here from the stored delegation. Unknown and someone else's get one answer, so the form cannot
  // be used to learn whether a did exists.
  app.post(`${authorizePaths.account}/delegations/revoke`, (c) =>
    guarded(c, async () => {
      const form = await readForm(c, maxBytes);
      if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.');
      const session = await currentSession(deps, c);
      if (!session) return c.redirect(`/login?return_to=${encodeURIComponent(authorizePaths.account)}`, 303);
      const did = form.get('did');
      const record = did ? await findDelegation(deps.store, did) : undefined;
      const role = record ? revokerRole(deps, session, record) : undefined;
      if (!did || !record || !role) {
        deps.log.info({ req_id: c.get('requestId'), reason: 'delegation_not_revocable_by_person' }, 'delegation revocation refused');
        return showAccount(c, session, notRevocable, 404);
      }
      const outcome = await revokeDelegation(deps.store, deps.receipts, did, role, { sub: session.sub }, deps.now());
      const agent = agentName(deps, record.clientId);
      if (outcome.status === 'unknown') return showAccount(c, session, notRevocable, 404);
      if (outcome.status === 'already_revoked') return showAccount(c, session, `That delegation to ${agent} was already revoked.`);
      deps.log.info({ req_id: c.get('requestId'), did, by: role, client_id: record.clientId }, 'delegation revoked');
      return showAccount(c, session, `Delegation to ${agent} revoked: it can no longer act with it, and the Passports it got from it no longer work.`);
    }),
  );

  async function answer(c: Context, next: Next): Promise<Response> {
    pageHeaders(c);
    if (next.kind === 'redirect') return c.redirect(next.location, 303);
    if (next.kind === 'consent') {
      const { pending, session } = next;
      return consentPage(c, deps, { id: pending.id, csrf: kit.csrfFor(c), client: pending.client, request: pending.request, who: who(session.claims, session.sub) });
    }
    return sendAuthorizationAnswer(deps, c, next);
  }

  async function guarded(c: Context, run: () => Promise<Response>): Promise<Response> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AuthorizePageError) {
        deps.log.info({ req_id: c.get('requestId'), reason: error.reason }, 'authorization request refused');
        return errorPage(c, 400, error.title, error.detail);
      }
      // A limit reached (a metadata-document fetch, a sign-in start, a consent answer): a page, not a redirect.
      if (isRateLimited(error)) return tooManyRequestsPage(c, error);
      if (error instanceof UpstreamError) return upstreamFailurePage(deps, c, error);
      // Before the redirect URI is known good, an OAuth error (a repeated parameter, a body too large) is a page too.
      if (isOAuthError(error) && error.status < 500) {
        deps.log.info({ req_id: c.get('requestId'), error: error.code }, 'authorization request refused');
        return errorPage(c, 400, 'Invalid request', error.description ?? 'The application sent an invalid request.');
      }
      throw error;
    }
  }

  return app;
}

function who(claims: Record<string, unknown>, sub: string): string {
  for (const name of ['name', 'email']) if (typeof claims[name] === 'string' && claims[name]) return claims[name] as string;
  return sub;
}
