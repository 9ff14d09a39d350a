// Hono adapter of the Passport guard: a middleware that checks each request against the guard and
// answers refusals itself (status, WWW-Authenticate, DPoP-Nonce, an RFC 6750-style JSON body),
// and a handler serving RFC 9728 protected resource metadata. The URL a DPoP proof must name is
// built from the configured `publicUrl`, so a proxy's or client's Host header cannot change it.
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { createPassportGuard, type PassportGuard } from './guard.ts';
import { protectedResourceMetadataDocument, type ProtectedResourceMetadataOptions } from './metadata.ts';
import type { GuardFailure, Passport, PassportGuardOptions, Requirements } from './types.ts';

/** Typed context variables: `c.get('passport')` after the middleware, and the DPoP key when bound. */
export type PassportVariables = { passport: Passport; dpop: { jkt: string } | undefined };
export type PassportEnv = { Variables: PassportVariables };

export type PassportMiddlewareOptions = Requirements & {
  /** The public base URL of this server (origin, and a path prefix a proxy strips, if any). Default: the request URL. */
  publicUrl?: string;
  /** Called with every refusal, e.g. to log `failure.reason` (never sent to the client). */
  onRefused?: (failure: GuardFailure, c: Context) => void;
};

/** The absolute URL of this request as configured: `publicUrl` + path + query. */
export function configuredUrl(requestUrl: string, publicUrl: string | undefined): string {
  const actual = new URL(requestUrl);
  if (publicUrl === undefined) return actual.href;
  const base = new URL(publicUrl);
  return `${base.origin}${base.pathname.replace(/\/$/, '')}${actual.pathname}${actual.search}`;
}

export function passportGuard(guardOrOptions: PassportGuard | PassportGuardOptions, options: PassportMiddlewareOptions = {}): MiddlewareHandler<PassportEnv> {
  const guard = 'verify' in guardOrOptions ? guardOrOptions : createPassportGuard(guardOrOptions);
  if (options.publicUrl !== undefined && !URL.canParse(options.publicUrl)) throw new TypeError('publicUrl must be a URL');
  const requirements: Requirements = {
    ...(options.scopes ? { scopes: options.scopes } : {}),
    ...(options.authorizationDetails ? { authorizationDetails: options.authorizationDetails } : {}),
  };
  return async function passportGuardMiddleware(c, next) {
    // 1. Ask the guard, with the URL as configured.
    const result = await guard.verify({ method: c.req.method, url: configuredUrl(c.req.url, options.publicUrl), headers: c.req.raw.headers }, requirements);
    // 2. Refused: answer here, RFC 6750 §3 style.
    if (!result.ok) {
      options.onRefused?.(result, c);
      const body = { ...(result.error ? { error: result.error } : {}), ...(result.errorDescription ? { error_description: result.errorDescription } : {}) };
      return c.json(body, result.status, { ...result.headers, 'Cache-Control': 'no-store' });
    }
    // 3. Accepted: the handler sees the Passport; the answer carries the next DPoP nonce.
    c.set('passport', result.passport);
    c.set('dpop', result.dpop);
    await next();
    const nonce = result.headers['DPoP-Nonce'];
    if (nonce !== undefined) c.header('DPoP-Nonce', nonce);
  };
}

/** Bodies larger than this are not SETs (the guard refuses longer ones anyway). */
const maxSetBytes = 16384;

/**
 * A handler for the push endpoint of the guard's SSF stream (RFC 8935): mount it at the
 * `ssf.delivery.endpointUrl` the guard was given, e.g. `app.post('/ssf/events', ssfPushHandler(guard))`.
 */
export function ssfPushHandler(guard: PassportGuard): Handler {
  const signals = guard.signals;
  if (!signals) throw new TypeError('the guard has no ssf receiver (PassportGuardOptions.ssf)');
  return async function ssfPushEndpoint(c) {
    const declared = Number(c.req.header('content-length') ?? '0');
    const body = declared > maxSetBytes ? undefined : await c.req.text();
    const answer =
      body === undefined || body.length > maxSetBytes
        ? ({ status: 400, body: { err: 'invalid_request', description: 'the body is too large for a SET' } } as const)
        : await signals.receivePush({ contentType: c.req.header('content-type'), authorization: c.req.header('authorization'), body });
    c.header('Cache-Control', 'no-store');
    return answer.body ? c.json(answer.body, answer.status) : c.body(null, answer.status);
  };
}

/** A handler for GET /.well-known/oauth-protected-resource (RFC 9728 §3). */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Handler {
  const document = protectedResourceMetadataDocument(options);
  return function protectedResourceMetadataHandler(c) {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(document);
  };
}
