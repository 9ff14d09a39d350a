// One place that turns anything thrown into a response: an OAuthError as its JSON error object, a
// database that cannot serve right now as 503 temporarily_unavailable with Retry-After, anything
// else as a fixed server_error whose cause goes only to the log, with the request id.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { Logger } from '../log.ts';
import { isOAuthError, OAuthError, type OAuthErrorCode } from '../oauth/errors.ts';
import { isStoreUnavailable } from '../store/unavailable.ts';
import { oauthErrorResponse } from './respond.ts';

export function createErrorHandler(log: Logger): ErrorHandler {
  return (error, c: Context) => {
    const requestId = c.get('requestId' as never) as string | undefined;
    if (isOAuthError(error)) {
      const level = error.status >= 500 ? 'error' : 'info';
      log[level]({ req_id: requestId, path: c.req.path, error: error.code, reason: error.reason }, 'request refused');
      return oauthErrorResponse(c, error);
    }
    if (isStoreUnavailable(error)) {
      log.warn({ req_id: requestId, path: c.req.path, err: error }, 'database unavailable');
      return oauthErrorResponse(c, new OAuthError('temporarily_unavailable', 'the service is busy; try again shortly', { status: 503, headers: { 'Retry-After': '1' } }));
    }
    log.error({ req_id: requestId, path: c.req.path, err: error }, 'unhandled error');
    return oauthErrorResponse(c, new OAuthError('server_error', 'the server could not complete the request'));
  };
}

/** The OAuth error code the client is answered for anything thrown, as the handler above decides it. */
export const wireErrorCode = (error: unknown): OAuthErrorCode => (isOAuthError(error) ? error.code : isStoreUnavailable(error) ? 'temporarily_unavailable' : 'server_error');

export const notFound: NotFoundHandler = (c) => oauthErrorResponse(c, new OAuthError('not_found', 'no such endpoint'));

export const methodNotAllowed = (allow: string) => (c: Context) =>
  oauthErrorResponse(c, new OAuthError('method_not_allowed', `use ${allow}`, { headers: { Allow: allow } }));
