// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): GET or POST /end-session.
// The browser is sent back only to a post_logout_redirect_uri registered for the client (matched
// like redirect URIs: exactly, loopback port aside), named
// by client_id or by the id_token_hint's audience; anything else is a page. Without a hint that
// names this very session, the person confirms first, so no third party can sign them out.
import { findClient } from '../clients/directory.ts';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { Deps } from '../deps.ts';
import { isOAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';
import { matchRedirectUri } from '../oauth/redirect-uri.ts';
import { verifyIdTokenHint } from '../passports/id-token.ts';
import type { SessionRecord } from '../store/ports.ts';
import { browserKit, currentSession, sessionCookie } from './browser.ts';
import { readForm } from './form.ts';
import { brandOf } from './branding.ts';
import { errorPage, Page, pageHeaders } from './pages.tsx';
import { endSessionPath } from './paths.ts';
import { endLoginSession } from '../federation/sessions.ts';

type Return = { uri: string; state?: string | undefined } | undefined;

class LogoutRequestError extends Error {}

export function logoutRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;

  /** Where to go afterwards, checked against the client's registration; throws for anything unsafe. */
  async function checkRequest(params: Params): Promise<{ back: Return; hintSid?: string | undefined }> {
    const rawHint = params.get('id_token_hint');
    const hint = rawHint === undefined ? undefined : await verifyIdTokenHint(deps, rawHint);
    if (rawHint !== undefined && !hint) throw new LogoutRequestError('The sign-out request came with an ID token that is not ours.');
    const clientId = params.get('client_id') ?? hint?.clientId;
    if (hint && params.get('client_id') !== undefined && params.get('client_id') !== hint.clientId) throw new LogoutRequestError('The sign-out request names two different applications.');
    const uri = params.get('post_logout_redirect_uri');
    const state = params.get('state');
    if (uri === undefined) return { back: undefined, hintSid: hint?.sid };
    const client = clientId === undefined ? undefined : await findClient(deps, clientId);
    if (!client || !matchRedirectUri(uri, client.post_logout_redirect_uris)) throw new LogoutRequestError('The application asked to send you to an address it has not registered.');
    return { back: { uri, state }, hintSid: hint?.sid };
  }

  async function endSession(c: Context, session: SessionRecord | undefined, back: Return, via: string): Promise<Response> {
    const id = getCookie(c, sessionCookie);
    if (id) await endLoginSession(deps, id);
    deleteCookie(c, sessionCookie, { path: '/', secure: kit.secure });
    if (session) {
      await deps.receipts.record({ event: 'session.ended', subject: session.sub, details: { via, sid: session.sid } });
    }
    pageHeaders(c);
    if (back) {
      const url = new URL(back.uri);
      if (back.state !== undefined) url.searchParams.append('state', back.state);
      return c.redirect(url.href, 303);
    }
    return c.html(
      <Page c={c} title="Signed out">
        <p role="status">You are signed out of {brandOf(c).productName}.</p>
        <p>
          <a href="/login">Sign in again</a>
        </p>
      </Page>,
    );
  }

  async function handle(c: Context, params: Params): Promise<Response> {
    const checked = await checkRequest(params);
    const session = await currentSession(deps, c);
    // Nothing to end, or the hint names this very session: no need to ask.
    if (!session || (checked.hintSid !== undefined && checked.hintSid === session.sid)) return endSession(c, session, checked.back, 'rp');
    pageHeaders(c);
    return c.html(
      <Page c={c} title="Sign out?">
        <p>An application asks to sign you out of {brandOf(c).productName}.</p>
        <form method="post" action={`${endSessionPath}/confirm`} class="actions">
          <input type="hidden" name="csrf" value={kit.csrfFor(c)} />
          {(['client_id', 'post_logout_redirect_uri', 'state'] as const).map((name) => {
            const value = params.get(name);
            return value === undefined ? null : <input type="hidden" name={name} value={value} />;
          })}
          {/* The hint's audience names the client when client_id was not sent. */}
          {params.get('id_token_hint') !== undefined ? <input type="hidden" name="id_token_hint" value={params.get('id_token_hint') as string} /> : null}
          <button type="submit">Sign out</button>
        </form>
      </Page>,
    );
  }

  app.get(endSessionPath, (c) => guard(c, async () => handle(c, parseFormParams(new URL(c.req.url).search.slice(1)))));
  app.post(endSessionPath, (c) => guard(c, async () => handle(c, await readForm(c, maxBytes))));
  app.post(`${endSessionPath}/confirm`, (c) =>
    guard(c, async () => {
      const params = await readForm(c, maxBytes);
      if (!kit.csrfOk(c, params.get('csrf'))) return errorPage(c, 403, 'Sign-out expired', 'This form has expired or was not sent by this browser.');
      const checked = await checkRequest(params);
      return endSession(c, await currentSession(deps, c), checked.back, 'rp_confirmed');
    }),
  );

  /** A refused or malformed request (repeated parameter, wrong content type) is a page here, not JSON. */
  async function guard(c: Context, run: () => Promise<Response>): Promise<Response> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof LogoutRequestError) return errorPage(c, 400, 'Invalid sign-out request', error.message);
      if (isOAuthError(error) && error.status < 500) {
        return errorPage(c, 400, 'Invalid sign-out request', 'The application sent an invalid request.');
      }
      throw error;
    }
  }

  return app;
}
