// State-changing page forms (sign-in, consent, account, approvals, device, sign-out) accept a POST
// only from a page of ours: hono's csrf middleware checks Sec-Fetch-Site (same-origin) or Origin
// (the issuer's origin), as every current browser sends them. This is on top of the forms' own CSRF
// tokens: a leaked token alone no longer lets another site submit a form. Endpoints that other
// sites call by design (/authorize, /end-session, /token, …) are not behind it.
import type { MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { errorPage } from './pages.tsx';

export function sameOriginForms(issuer: string): MiddlewareHandler {
  const check = csrf({ origin: new URL(issuer).origin, secFetchSite: 'same-origin' });
  return async function sameOriginForms(c, next) {
    let passed = false;
    try {
      await check(c, async () => {
        passed = true;
        await next();
      });
    } catch (error) {
      if (passed || !(error instanceof HTTPException) || error.status !== 403) throw error;
      return errorPage(c, 403, 'Form refused', 'This form was not sent from a page of this site. Please go back and try again.');
    }
    return undefined;
  };
}
