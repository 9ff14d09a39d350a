// The device authorization endpoint (RFC 8628 §3.1–3.2) and the user code pages (§3.3):
// 1 POST /device_authorization: the client authenticates as at the token endpoint (a public
//   client names itself), and gets a device code and a user code
// 2 GET /device (?user_code= prefilled): sign in first (to /login and back, as /account does)
// 3 POST /device: CSRF, the wrong-code limit (§5.1), the code → what the device asks, in words
// 4 POST /device/decide: CSRF, approve or deny → done; an approval the person's sign-in is too
//   weak or old for (a policy's step-up): sign in again at their upstream, back to the code page.
// A policy that refuses the request when the code is entered: a page that says so (it is denied).
// Wrong codes are counted per login session: `device.user_code_attempts` per 10 minutes (limits/user-codes.ts).
import { Hono, type Context } from 'hono';
import { decideDeviceRequest, enterUserCode, startDeviceAuthorization, verificationPath } from '../consent/device-request.ts';
import { displayUserCode, normaliseUserCode } from '../consent/user-code.ts';
import { sessionAuthentication } from '../authorize/flow.ts';
import type { Deps } from '../deps.ts';
import { startBrowserLogin } from '../federation/browser-login.ts';
import type { PersonRequest } from '../grants/approved-request.ts';
import { isOAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import type { SessionRecord } from '../store/ports.ts';
import { browserKit, currentSession } from './browser.ts';
import { deviceDonePage, deviceMessagePage, deviceRequestPage, userCodePage } from './device-pages.tsx';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { upstreamFailurePage } from './login-routes.tsx';
import { errorPage } from './pages.tsx';
import { stepUpOf } from '../obligations/step-up.ts';
import { noStoreJson } from './respond.ts';
import { clientAuth } from './client-auth.ts';
import { devicePaths } from './paths.ts';

export function deviceRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;
  const attempts = deps.rateLimits.userCodes;
  const loginFirst = (c: Context, returnTo: string) => c.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
  const expired = (c: Context) => errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser. Please enter the code again.');

  // 1. Errors are RFC 6749 §5.2 JSON (app.onError), as at the token endpoint.
  app.post(devicePaths.authorization, clientAuth(deps), async (c) => {
    const { client } = c.get('client');
    // Per client (rate_limits.device_authorizations), once it is known who asks: 429 over the limit.
    await deps.rateLimits.deviceAuthorization(client.client_id);
    return noStoreJson(c, await startDeviceAuthorization(deps, client, c.get('form')));
  });
  app.all(devicePaths.authorization, methodNotAllowed('POST'));

  // 2.
  app.get(devicePaths.verify, async (c) => {
    const typed = c.req.query('user_code')?.slice(0, 32);
    const session = await currentSession(deps, c);
    if (!session) return loginFirst(c, typed ? `${devicePaths.verify}?user_code=${encodeURIComponent(typed)}` : devicePaths.verify);
    return userCodePage(c, { csrf: kit.csrfFor(c), who: who(session), userCode: typed });
  });

  // 3.
  app.post(devicePaths.verify, (c) =>
    asPage(c, async (form) => {
      if (!kit.csrfOk(c, form.get('csrf'))) return expired(c);
      const session = await currentSession(deps, c);
      if (!session) return loginFirst(c, devicePaths.verify);
      const max = deps.config.main.device.user_code_attempts;
      const now = deps.now();
      const typed = form.get('user_code') ?? '';
      const wait = await attempts.waitSeconds(session, max, now);
      if (wait > 0) return tooMany(c, wait);
      if (!typed.trim()) return userCodePage(c, { csrf: kit.csrfFor(c), who: who(session), error: 'Enter the code your device shows.', status: 400 });

      const entered = await enterUserCode(deps, typed, session.sub);
      if (entered.status === 'mine') {
        const { record, client } = entered;
        const userCode = displayUserCode(normaliseUserCode(typed) as string);
        const stepUp = stepUpOf(record.request);
        return deviceRequestPage(c, deps, { csrf: kit.csrfFor(c), id: record.id, who: who(session), userCode, client, request: record.request as PersonRequest, stepUp });
      }
      if (entered.status === 'refused') {
        deps.log.info({ req_id: c.get('requestId'), reason: 'device_request_refused_by_policy' }, 'device request refused');
        return deviceMessagePage(c, 403, 'Request refused', `This request is not allowed: ${entered.reason} Your device gets no access.`);
      }
      if (entered.status === 'waiting') {
        const whom = entered.approvers.kind === 'manager' ? 'your manager' : entered.approvers.kind === 'dual' ? `two people of ${entered.approvers.group}` : 'someone else';
        return deviceMessagePage(c, 200, 'Waiting for approval', `This request needs the approval of ${whom}. They see it in their approvals inbox; your device gets access once they approve.`);
      }
      if (entered.status === 'answered') return deviceMessagePage(c, 400, 'Already answered', 'You have already approved or denied this request. If your device still waits, start again there to get a new code.');
      // Not a usable code: it counts against the limit (someone else's code too, so it is no oracle).
      const left = await attempts.failed(session, max, now);
      deps.log.info({ req_id: c.get('requestId'), reason: `user_code_${entered.status}`, attempts_left: left }, 'user code refused');
      if (left <= 0) return tooMany(c, await attempts.waitSeconds(session, max, now));
      if (entered.status === 'taken') return deviceMessagePage(c, 403, 'Code already used', 'This code has already been entered by someone else. If it is yours, start again on your device to get a new code.');
      const error = `That code is not valid, or it has expired. Check it on your device and try again (${left} ${left === 1 ? 'attempt' : 'attempts'} left).`;
      return userCodePage(c, { csrf: kit.csrfFor(c), who: who(session), userCode: typed.slice(0, 32), error, status: 400 });
    }),
  );

  // 4.
  app.post(devicePaths.decide, (c) =>
    asPage(c, async (form) => {
      if (!kit.csrfOk(c, form.get('csrf'))) return expired(c);
      const session = await currentSession(deps, c);
      if (!session) return loginFirst(c, devicePaths.verify);
      const decision = form.get('decision');
      const id = form.get('id');
      if ((decision !== 'approve' && decision !== 'deny') || id === undefined) return deviceMessagePage(c, 400, 'Invalid answer', 'Choose Approve or Deny.');
      const outcome = await decideDeviceRequest(deps, id, session, decision, sessionAuthentication(session));
      if (outcome.status === 'step_up') {
        const code = normaliseUserCode(form.get('user_code') ?? '');
        const returnTo = code ? `${devicePaths.verify}?user_code=${encodeURIComponent(displayUserCode(code))}` : devicePaths.verify;
        try {
          const { acr, maxAge } = outcome.stepUp;
          const url = await startBrowserLogin(deps, session.upstreamId, { browserId: kit.browserId(c), visitor: kit.visitor(c), returnTo, prompt: 'login', ...(acr !== undefined ? { acrValues: acr } : {}), ...(maxAge !== undefined ? { maxAge } : {}) });
          return c.redirect(url.href, 303);
        } catch (error) {
          return upstreamFailurePage(deps, c, error);
        }
      }
      if (outcome.status === 'not_found') return deviceMessagePage(c, 404, 'No such request', 'There is no such request waiting for your answer.');
      if (outcome.status !== 'recorded') return deviceMessagePage(c, 400, 'Request closed', 'This request has expired or was already answered. Start again on your device to get a new code.');
      deps.log.info({ req_id: c.get('requestId'), approval: id, decision }, 'device request decided');
      return deviceDonePage(c, { approved: decision === 'approve', clientName: outcome.client?.name ?? outcome.record.clientId });
    }),
  );

  /** Bad forms (wrong type, too large, a repeated field) are pages here, not JSON. */
  async function asPage(c: Context, run: (form: Params) => Promise<Response>): Promise<Response> {
    let form: Params;
    try {
      form = await readForm(c, maxBytes);
    } catch (error) {
      if (!isOAuthError(error) || error.status >= 500) throw error;
      return errorPage(c, 400, 'Invalid request', error.description);
    }
    return run(form);
  }

  function tooMany(c: Context, waitSeconds: number) {
    c.header('Retry-After', String(waitSeconds));
    const minutes = Math.ceil(waitSeconds / 60);
    return deviceMessagePage(c, 429, 'Too many attempts', `Too many wrong codes were entered. Please wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'} before trying again.`);
  }

  return app;
}

function who(session: SessionRecord): string {
  for (const name of ['name', 'email']) if (typeof session.claims[name] === 'string' && session.claims[name]) return session.claims[name] as string;
  return session.sub;
}
