// The DPoP-Nonce of an endpoint that demands nonces (dpop.nonce_endpoints), on every answer it
// gives (RFC 9449 §8): the success and each OAuth error alike. A nonce an error carries itself
// (use_dpop_nonce) is kept. A server_error or 503 gets none: it says nothing about proofs.
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.ts';
import { nonceHeader, type DpopEndpoint } from '../dpop/request.ts';
import { isOAuthError } from '../oauth/errors.ts';

export function dpopNonce(deps: Deps, endpoint: DpopEndpoint): MiddlewareHandler {
  return async function dpopNonce(c, next) {
    const nonce = nonceHeader(deps, endpoint);
    await next();
    if (c.error !== undefined && !isOAuthError(c.error)) return;
    for (const [name, value] of Object.entries(nonce)) if (!c.res.headers.has(name)) c.header(name, value);
  };
}
