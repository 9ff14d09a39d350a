// The answer of an authorization request on its way to the app: the code or the error, with state
// and iss (RFC 9207), in the request's response mode (query redirect, form_post page, or JARM).
// Shared by /authorize and by a sign-in that failed on the way (login-routes.tsx).
import type { Context } from 'hono';
import type { Answer } from '../authorize/flow.ts';
import { authorizationAnswer } from '../authorize/response.ts';
import type { Deps } from '../deps.ts';
import { formPostPage } from './authorize-pages.tsx';
import { pageHeaders } from './pages.tsx';

export async function sendAuthorizationAnswer(deps: Deps, c: Context, next: Answer): Promise<Response> {
  pageHeaders(c);
  const delivered = await authorizationAnswer(deps, next.client, next.target, next.result);
  if ('error' in next.result) deps.log.info({ req_id: c.get('requestId'), client_id: next.client.client_id, error: next.result.error.code }, 'authorization refused');
  if (delivered.kind === 'form_post') return formPostPage(c, delivered.action, delivered.fields);
  return c.redirect(delivered.location, 303);
}
