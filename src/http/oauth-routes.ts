// Token, introspection and revocation endpoints: read the form, authenticate, call the service.
import { Hono } from 'hono';
import { authenticateClient } from '../clients/authenticate.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import { assertionContext, dispatchTokenRequest, receiptHeader } from '../grants/dispatch.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import { checkRequestProof, dpopHeaderValues, nonceHeader } from '../dpop/request.ts';
import type { Params } from '../oauth/params.ts';
import { introspectToken, revokeToken } from '../passports/introspection.ts';
import { methodNotAllowed, wireErrorCode } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';
import { sourceAddress } from './source.ts';

export const paths = { token: '/token', introspection: '/introspect', revocation: '/revoke' } as const;

export function oauthRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;
  const authenticate = (authorization: string | undefined, params: Params, source: string | undefined) =>
    authenticateClient({ authorization, params, source }, clientLookup(deps, source), assertionContext(deps, deps.now()));
  const tokenParam = (params: Params) => {
    const token = params.get('token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    return token;
  };

  app.post(paths.token, async (c) => {
    const nonce = nonceHeader(deps, 'token');
    // Every request is counted (consulate_token_requests_total), an unreadable form too.
    let grantType: string | undefined;
    try {
      const params = await readForm(c, maxBytes);
      grantType = params.get('grant_type');
      const { response, receipt } = await dispatchTokenRequest(deps, { authorization: c.req.header('authorization'), params, source: sourceAddress(c, deps), dpop: dpopHeaderValues(c.req.header('dpop')) });
      deps.metrics.tokenRequest(grantType, undefined);
      for (const [name, value] of Object.entries(nonce)) c.header(name, value);
      // The receipt of this issuance (a denial's is set on the error by dispatch): what `consulate explain` takes.
      c.header(receiptHeader, receipt);
      return noStoreJson(c, response);
    } catch (error) {
      deps.metrics.tokenRequest(grantType, wireErrorCode(error));
      // RFC 9449 §8: every answer of a nonce-demanding endpoint carries the next nonce.
      if (isOAuthError(error)) Object.assign(error.headers, nonce, error.headers);
      throw error;
    }
  });

  // RFC 7662 §2.1: the caller must authenticate.
  app.post(paths.introspection, async (c) => {
    const nonce = nonceHeader(deps, 'introspection');
    try {
      const params = await readForm(c, maxBytes);
      const caller = await authenticate(c.req.header('authorization'), params, sourceAddress(c, deps));
      // A resource server may prove its own key here too (RFC 9449): checked like anywhere else.
      await checkRequestProof(deps, { proofs: dpopHeaderValues(c.req.header('dpop')), method: 'POST', path: paths.introspection, endpoint: 'introspection' });
      const answer = await introspectToken(deps, caller, tokenParam(params));
      deps.metrics.introspection(answer.active ? 'active' : 'inactive');
      for (const [name, value] of Object.entries(nonce)) c.header(name, value);
      return noStoreJson(c, answer);
    } catch (error) {
      deps.metrics.introspection('error');
      if (isOAuthError(error)) Object.assign(error.headers, nonce, error.headers);
      throw error;
    }
  });

  // RFC 7009 §2.1.
  app.post(paths.revocation, async (c) => {
    const params = await readForm(c, maxBytes);
    const caller = await authenticate(c.req.header('authorization'), params, sourceAddress(c, deps));
    await revokeToken(deps, caller, tokenParam(params));
    c.header('Cache-Control', 'no-store');
    return c.body(null, 200);
  });

  for (const path of Object.values(paths)) app.all(path, methodNotAllowed('POST'));
  return app;
}
