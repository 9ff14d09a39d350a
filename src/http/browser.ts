// What the pages know of a browser: an opaque browser id cookie (binds pending logins and
// authorization requests to the browser that started them), CSRF tokens derived from it, and the
// session cookie. Cookies are HttpOnly, SameSite=Lax, Secure when the issuer is https.
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import type { Visitor } from '../limits/limits.ts';
import { sourceAddress } from './source.ts';
import { findLoginSession } from '../federation/sessions.ts';

export const browserCookie = 'consulate_browser';
export const sessionCookie = 'consulate_session';

export function browserKit(deps: Deps) {
  const secure = deps.issuer.startsWith('https:');
  const cookieOptions = { httpOnly: true, secure, sameSite: 'Lax' as const, path: '/' };
  const csrfToken = (id: string) => hashId(`csrf:${id}`);
  const sentId = (c: Context): string | undefined => {
    const existing = getCookie(c, browserCookie);
    return existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : undefined;
  };
  /** The browser id, set on first sight. */
  const browserId = (c: Context): string => {
    const existing = sentId(c);
    if (existing) return existing;
    const id = randomId();
    setCookie(c, browserCookie, id, cookieOptions);
    return id;
  };
  return {
    secure,
    cookieOptions,
    browserId,
    csrfFor: (c: Context): string => csrfToken(browserId(c)),
    /** Whom the page limits count this request against: the browser if it sent its cookie (as a hash, never the id), and its address. */
    visitor(c: Context): Visitor {
      const id = sentId(c);
      return { browser: id === undefined ? undefined : hashId(id), source: sourceAddress(c, deps) };
    },
    csrfOk(c: Context, token: unknown): boolean {
      const id = getCookie(c, browserCookie);
      if (!id || typeof token !== 'string') return false;
      const expected = Buffer.from(csrfToken(id));
      const given = Buffer.from(token);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

export async function currentSession(deps: Deps, c: Context) {
  const id = getCookie(c, sessionCookie);
  return id ? findLoginSession(deps, id) : undefined;
}
