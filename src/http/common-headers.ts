// The headers every answer carries: X-Content-Type-Options, and X-Request-Id (the caller's when it
// is a sane token, else a new UUID; it is also the request's id in the logs).
// Most answers get them from the app's first middleware, through Hono's c.header before next().
// The hot endpoints (token, introspection) answer with a Response whose headers are a plain object
// instead (plainJson in respond.ts), which @hono/node-server writes as it is: no Headers object to
// build, fill and copy per request. Hono does not merge c.header values into a Response a route
// returns, so for those routes the middleware sets nothing and the answer carries the headers
// itself, as every error answer does too (oauthErrorResponse).
import type { Context } from 'hono';
import { oauthPaths } from './paths.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's id (X-Request-Id), for the logs. */
    requestId: string;
  }
}

/** What hono/request-id accepts from a caller: up to 255 word characters, `-` or `=`. */
const callerRequestId = /^[\w\-=]{1,255}$/;

/** The routes that answer with plain headers, common ones included (POST only). */
const plainAnswerPaths: ReadonlySet<string> = new Set([oauthPaths.token, oauthPaths.introspection]);

/** The common headers of a request whose id is `requestId` (none outside the app: routes tested alone). */
export const commonHeaders = (requestId: string | undefined): Record<string, string> =>
  requestId === undefined ? { 'X-Content-Type-Options': 'nosniff' } : { 'X-Content-Type-Options': 'nosniff', 'X-Request-Id': requestId };

/** For the app's first middleware: names the request and, unless its route answers with plain headers, sets the common headers. */
export function startAnswer(c: Context): string {
  const offered = c.req.header('X-Request-Id');
  const requestId = offered !== undefined && callerRequestId.test(offered) ? offered : crypto.randomUUID();
  c.set('requestId', requestId);
  if (!(c.req.method === 'POST' && plainAnswerPaths.has(c.req.path))) setCommonHeaders(c, requestId);
  return requestId;
}

/** Sets the common headers through Hono (an error answer sets them again: harmless, and needed on the plain routes). */
export function setCommonHeaders(c: Context, requestId: string | undefined = c.get('requestId')): void {
  for (const [name, value] of Object.entries(commonHeaders(requestId))) c.header(name, value);
}
