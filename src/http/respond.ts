// Small response helpers shared by routes: JSON that is never cached, and OAuth error bodies.
import type { Context } from 'hono';
import type { OAuthError } from '../oauth/errors.ts';
import { activeSpan } from '../tracing/spans.ts';
import { commonHeaders, setCommonHeaders } from './common-headers.ts';

export function noStoreJson(c: Context, body: unknown, status: 200 | 201 = 200): Response {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  return c.json(body, status);
}

/**
 * noStoreJson for the hot endpoints (token, introspection): one Response with plain headers, the
 * common ones included, which @hono/node-server writes without a Headers object (common-headers.ts).
 * The route must set no header through c.header: Hono does not merge those into a Response a route returns.
 */
export function plainJson(c: Context, body: unknown, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...commonHeaders(c.get('requestId')), ...headers },
  });
}

export function oauthErrorResponse(c: Context, error: OAuthError): Response {
  activeSpan()?.setAttribute('consulate.error_code', error.code);
  setCommonHeaders(c);
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  return c.json(error.toJSON(), error.status as 400);
}
