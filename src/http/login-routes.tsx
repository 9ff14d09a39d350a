// Login pages: home-realm discovery by e-mail domain or a chooser of upstreams, the redirect to
// the upstream, its callback, and the resulting session. Cookies are HttpOnly, SameSite=Lax,
// Secure when the issuer is https; every POST carries a CSRF token bound to the browser cookie.
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Deps } from '../deps.ts';
import { UpstreamError } from '../federation/connector.ts';
import { finishBrowserLogin, safeReturnTo, startBrowserLogin, upstreamForEmail } from '../federation/browser-login.ts';
import { abandonAuthorization, pendingIdOf, upstreamUnavailable } from '../authorize/flow.ts';
import { AuthorizePageError } from '../authorize/request.ts';
import { sendAuthorizationAnswer } from './authorize-answer.ts';
import { browserCookie, browserKit, currentSession, sessionCookie } from './browser.ts';
import { readForm } from './form.ts';
import { knownOr } from '../metrics/labels.ts';
import { errorPage, Page, pageHeaders, SignOut } from './pages.tsx';
import { isRateLimited } from '../limits/limits.ts';
import { tooManyRequestsPage } from './limit-page.tsx';
import { endLoginSession } from '../federation/sessions.ts';

export function loginRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const { secure, cookieOptions } = kit;
  const browserId = (c: Context) => kit.browserId(c);
  const csrfOk = kit.csrfOk;
  const maxBytes = deps.config.main.http.max_body_bytes;

  const chooser = (c: Context, returnTo: string, error?: string, status: 200 | 400 = 200) => {
    pageHeaders(c);
    const csrf = kit.csrfFor(c);
    const upstreams = [...deps.config.upstreams.values()];
    return c.html(
      <Page c={c} title="Sign in">
        {error ? <p role="alert">{error}</p> : null}
        <p class="muted">Enter your work e-mail: you continue at your organisation's own sign-in.</p>
        <form method="post" action="/login">
          <input type="hidden" name="csrf" value={csrf} />
          <input type="hidden" name="return_to" value={returnTo} />
          <label for="email">Work e-mail</label>
          <input id="email" name="email" type="email" autocomplete="username" required />
          <button type="submit">Continue</button>
        </form>
        {upstreams.length ? (
          <nav aria-label="Sign in with">
            <h2>Or sign in with</h2>
            <ul class="options">
              {upstreams.map((u) => (
                <li>
                  <a class="button secondary" href={`/login/${encodeURIComponent(u.id)}?return_to=${encodeURIComponent(returnTo)}`}>
                    {u.name ?? u.id}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
      </Page>,
      status,
    );
  };

  app.get('/login', (c) => chooser(c, safeReturnTo(c.req.query('return_to'))));

  // Forms are read like every other body: urlencoded only and bounded (hono's parseBody is neither).
  app.post('/login', async (c) => {
    const form = await readForm(c, maxBytes);
    if (!csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Sign-in expired', 'This form has expired or was not sent by this browser. Please start again.');
    const returnTo = safeReturnTo(form.get('return_to'));
    const email = form.get('email')?.slice(0, 320) ?? '';
    const upstream = upstreamForEmail(deps, email);
    if (!upstream) return chooser(c, returnTo, 'No sign-in is configured for that e-mail domain. Choose your organisation below.', 400);
    return c.redirect(`/login/${encodeURIComponent(upstream)}?return_to=${encodeURIComponent(returnTo)}&login_hint=${encodeURIComponent(email)}`, 303);
  });

  app.get('/login/:upstream', async (c) => {
    const upstreamId = c.req.param('upstream');
    if (!deps.config.upstreams.has(upstreamId)) return errorPage(c, 404, 'Unknown organisation', 'There is no such sign-in option.');
    try {
      const hint = c.req.query('login_hint');
      const url = await startBrowserLogin(deps, upstreamId, {
        browserId: browserId(c),
        visitor: kit.visitor(c),
        returnTo: safeReturnTo(c.req.query('return_to')),
        ...(hint ? { loginHint: hint.slice(0, 320) } : {}),
      });
      pageHeaders(c);
      return c.redirect(url.href, 303);
    } catch (error) {
      return upstreamFailure(deps, c, error, safeReturnTo(c.req.query('return_to')));
    }
  });

  app.get('/callback/:upstream', async (c) => {
    // consulate_upstream_logins_total: the upstream as the config names it (the path is anyone's to write).
    const upstream = knownOr(deps.config.upstreams, c.req.param('upstream'));
    try {
      const result = await finishBrowserLogin(deps, c.req.param('upstream'), new URL(c.req.url), getCookie(c, browserCookie));
      deps.metrics.upstreamLogin(upstream, 'success');
      // The new session replaces the browser's old one (e.g. before a step-up): the old id must not live on.
      const previous = getCookie(c, sessionCookie);
      if (previous) await endLoginSession(deps, previous);
      setCookie(c, sessionCookie, result.sessionId, { ...cookieOptions, maxAge: deps.config.main.authorization.session_ttl_seconds });
      pageHeaders(c);
      return c.redirect(result.returnTo, 303);
    } catch (error) {
      if (error instanceof UpstreamError) deps.metrics.upstreamLogin(upstream, error.reason);
      return upstreamFailure(deps, c, error, error instanceof UpstreamError ? error.returnTo : undefined);
    }
  });

  app.get('/session', async (c) => {
    const session = await currentSession(deps, c);
    if (!session) return c.redirect(`/login?return_to=${encodeURIComponent('/session')}`, 303);
    pageHeaders(c);
    const claims = session.claims as { name?: string; email?: string; upstream?: string };
    return c.html(
      <Page c={c} title="Signed in">
        <p>
          Signed in as <strong>{claims.name ?? claims.email ?? session.sub}</strong>
          {claims.email ? ` (${claims.email})` : ''} through {deps.config.upstreams.get(session.upstreamId)?.name ?? session.upstreamId}.
        </p>
        <nav class="links" aria-label="Where to go">
          <a href="/account">Your account</a>
          <a href="/account/agents">Agents you own</a>
          <a href="/account/tokens">Your personal access tokens</a>
          <a href="/approvals">Requests waiting for your approval</a>
        </nav>
        <SignOut csrf={kit.csrfFor(c)} />
      </Page>,
    );
  });

  app.post('/logout', async (c) => {
    const form = await readForm(c, maxBytes);
    if (!csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Sign-out expired', 'This form has expired or was not sent by this browser.');
    const id = getCookie(c, sessionCookie);
    if (id) await endLoginSession(deps, id);
    deleteCookie(c, sessionCookie, { path: '/', secure });
    return c.redirect('/login', 303);
  });

  return app;
}

/**
 * An upstream that failed (5xx, unreachable, too slow) during a sign-in started for an authorization
 * request (`returnTo` continues it): the request ends and its app hears temporarily_unavailable at
 * its validated redirect_uri, with state and iss, in its response mode (RFC 6749 §4.1.2.1). Any
 * other failure, or a sign-in of Consulate's own pages, is the page of upstreamFailurePage.
 */
export async function upstreamFailure(deps: Deps, c: Context, error: unknown, returnTo: string | undefined): Promise<Response> {
  const id = pendingIdOf(returnTo);
  if (!(error instanceof UpstreamError && error.isOutage) || id === undefined) return upstreamFailurePage(deps, c, error);
  let next;
  try {
    next = await abandonAuthorization(deps, id, browserKit(deps).browserId(c), upstreamUnavailable());
  } catch (refused) {
    // The request is gone, answered, or another browser's: nothing to tell an app.
    if (!(refused instanceof AuthorizePageError)) throw refused;
    return upstreamFailurePage(deps, c, error);
  }
  deps.log.warn({ req_id: c.get('requestId'), reason: error.reason, detail: error.message }, 'upstream login failed');
  return sendAuthorizationAnswer(deps, c, next);
}

/** An upstream that failed, timed out or sent something wrong: a clear page, details only in the log. */
export function upstreamFailurePage(deps: Deps, c: Context, error: unknown): Response | Promise<Response> {
  // A sign-in start over its limit (federation/browser-login.ts): a page, never a redirect.
  if (isRateLimited(error)) return tooManyRequestsPage(c, error);
  if (!(error instanceof UpstreamError)) throw error;
  deps.log.warn({ req_id: c.get('requestId'), reason: error.reason, detail: error.message }, 'upstream login failed');
  if (error.reason === 'denied') return errorPage(c, 403, 'Sign-in refused', error.shown ?? 'Your account may not sign in here.');
  if (error.reason === 'timeout') return errorPage(c, 504, 'Sign-in unavailable', 'Your organisation\'s sign-in service did not answer in time. Please try again in a moment.');
  if (error.reason === 'unreachable') return errorPage(c, 502, 'Sign-in unavailable', 'Your organisation\'s sign-in service cannot be reached right now. Please try again later.');
  return errorPage(c, 400, 'Sign-in failed', 'Sign-in could not be completed. Please start again.');
}
