// A rate limit a browser reached (limits/limits.ts: sign-in starts, consent answers, metadata-document
// fetches at /authorize): a 429 page with Retry-After. Never a redirect: one could lead the browser
// straight back into the limit, over and over.
import type { Context } from 'hono';
import type { OAuthError } from '../oauth/errors.ts';
import { errorPage } from './pages.tsx';

export function tooManyRequestsPage(c: Context, error: OAuthError): Response | Promise<Response> {
  const seconds = Math.max(1, Number(error.headers['Retry-After']) || 60);
  c.header('Retry-After', String(seconds));
  const minutes = Math.ceil(seconds / 60);
  const wait = `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  return errorPage(c, 429, 'Too many requests', `Too many requests came from this browser or network in a short time. Please wait ${wait}, then try again.`, { href: '/login', text: 'Sign in again later' });
}
