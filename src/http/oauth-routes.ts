// Token, introspection and revocation endpoints: read the form, authenticate, call the service.
// The token endpoint authenticates inside dispatch (grants/dispatch.ts, its step 2); the other two
// through the clientAuth middleware.
import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.ts';
import { dispatchTokenRequest, receiptHeader } from '../grants/dispatch.ts';
import { OAuthError } from '../oauth/errors.ts';
import { checkRequestProof, dpopHeaderValues } from '../dpop/request.ts';
import type { Params } from '../oauth/params.ts';
import { introspectToken, revokeToken } from '../introspection/introspection.ts';
import { clientAuth } from './client-auth.ts';
import { dpopNonce } from './dpop-nonce.ts';
import { methodNotAllowed, wireErrorCode } from './errors.ts';
import { readForm } from './form.ts';
import { plainJson } from './respond.ts';
import { endOfTurn } from './end-of-turn.ts';
import { sourceAddress } from './source.ts';
import { oauthPaths } from './paths.ts';

export function oauthRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;
  const tokenParam = (params: Params) => {
    const token = params.get('token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    return token;
  };
  /** Every introspection is counted (consulate_introspections_total): a refused caller as an error. */
  const countIntrospection: MiddlewareHandler = async function countIntrospection(c, next) {
    await next();
    if (c.error !== undefined) deps.metrics.introspection('error');
  };

  app.post(oauthPaths.token, dpopNonce(deps, 'token'), async (c) => {
    // Every request is counted (consulate_token_requests_total), an unreadable form too.
    let grantType: string | undefined;
    try {
      const params = await readForm(c, maxBytes);
      grantType = params.get('grant_type');
      const { response, receipt } = await dispatchTokenRequest(deps, { authorization: c.req.header('authorization'), params, source: sourceAddress(c, deps), dpop: dpopHeaderValues(c.req.header('dpop')) });
      deps.metrics.tokenRequest(grantType, undefined);
      // The receipt of this issuance (a denial's is set on the error by dispatch): what `consulate explain` takes.
      return plainJson(c, response, { [receiptHeader]: receipt });
    } catch (error) {
      deps.metrics.tokenRequest(grantType, wireErrorCode(error));
      throw error;
    }
  });

  // RFC 7662 §2.1: the caller must authenticate.
  app.post(oauthPaths.introspection, dpopNonce(deps, 'introspection'), countIntrospection, clientAuth(deps), async (c) => {
    // A resource server may prove its own key here too (RFC 9449): checked like anywhere else.
    await checkRequestProof(deps, { proofs: dpopHeaderValues(c.req.header('dpop')), method: 'POST', path: oauthPaths.introspection, endpoint: 'introspection' });
    const answer = await introspectToken(deps, c.get('client'), tokenParam(c.get('form')));
    deps.metrics.introspection(answer.active ? 'active' : 'inactive');
    // Written with the turn's other answers: an introspection waits for no write batch (end-of-turn.ts).
    await endOfTurn();
    return plainJson(c, answer);
  });

  // RFC 7009 §2.1.
  app.post(oauthPaths.revocation, clientAuth(deps), async (c) => {
    await revokeToken(deps, c.get('client'), tokenParam(c.get('form')));
    c.header('Cache-Control', 'no-store');
    return c.body(null, 200);
  });

  for (const path of Object.values(oauthPaths)) app.all(path, methodNotAllowed('POST'));
  return app;
}
