// Errors of the admin API as RFC 9457 problem details (application/problem+json): a thrown
// AdminProblem, a refused Passport (its RFC 6750 challenge kept in WWW-Authenticate), input that
// fails its zod schema (400, with the issues: path, code and message, never the input), a database
// that cannot serve (503), and anything else as a fixed 500 whose cause goes only to the log.
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { Logger } from '../../log.ts';
import { isOAuthError } from '../../oauth/errors.ts';
import { isStoreUnavailable } from '../../store/unavailable.ts';

export const problemType = 'application/problem+json';

export type Problem = { status: number; title: string; detail?: string | undefined; [extension: string]: unknown };

/** Thrown by a handler: answered as this problem. */
export class AdminProblem extends Error {
  override name = 'AdminProblem';
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export const notFoundProblem = (detail: string) => new AdminProblem({ status: 404, title: 'Not Found', detail });
export const conflictProblem = (detail: string, extra: Record<string, unknown> = {}) => new AdminProblem({ status: 409, title: 'Conflict', detail, ...extra });
export const badRequestProblem = (detail: string, extra: Record<string, unknown> = {}) => new AdminProblem({ status: 400, title: 'Bad Request', detail, ...extra });

export function problemResponse(c: Context, problem: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify({ type: 'about:blank', ...problem }), problem.status as 400, { ...headers, 'Content-Type': problemType, 'Cache-Control': 'no-store' });
}

/** 400 with the zod issues: where and what, never the value that was sent. */
export const validationProblem = (error: ZodError): Problem => ({
  status: 400,
  title: 'Bad Request',
  detail: 'the request does not match the admin API schema',
  errors: error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), code: issue.code, message: issue.message })),
});

export function adminErrorHandler(log: Logger): ErrorHandler {
  return (error, c) => {
    const requestId = c.get('requestId' as never) as string | undefined;
    if (error instanceof AdminProblem) return problemResponse(c, error.problem);
    if (isOAuthError(error)) {
      log.info({ req_id: requestId, path: c.req.path, error: error.code, reason: error.reason }, 'admin request refused');
      return problemResponse(c, { status: error.status, title: titles[error.status] ?? 'Error', detail: error.description, error: error.code }, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) return problemResponse(c, { status: error.status, title: titles[error.status] ?? 'Error', detail: error.status === 400 ? 'the request body is not valid JSON' : (titles[error.status] ?? 'Error') });
    if (isStoreUnavailable(error)) {
      log.warn({ req_id: requestId, path: c.req.path, err: error }, 'database unavailable');
      return problemResponse(c, { status: 503, title: 'Service Unavailable', detail: 'the service is busy; try again shortly' }, { 'Retry-After': '1' });
    }
    log.error({ req_id: requestId, path: c.req.path, err: error }, 'unhandled error');
    return problemResponse(c, { status: 500, title: 'Internal Server Error', detail: 'the server could not complete the request' });
  };
}

const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 429: 'Too Many Requests', 503: 'Service Unavailable' };
