// Token, introspection and revocation endpoints: read the form, authenticate, call the service.
import { Hono } from 'hono';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { assertionContext, dispatchTokenRequest } from '../grants/dispatch.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import { introspectToken, revokeToken } from '../passports/introspection.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';

export const paths = { token: '/token', introspection: '/introspect', revocation: '/revoke' } as const;

export function oauthRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;
  const authenticate = (authorization: string | undefined, params: Params) =>
    authenticateClient({ authorization, params }, deps.config, assertionContext(deps, deps.now()));
  const tokenParam = (params: Params) => {
    const token = params.get('token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    return token;
  };

  app.post(paths.token, async (c) => {
    const params = await readForm(c, maxBytes);
    return noStoreJson(c, await dispatchTokenRequest(deps, { authorization: c.req.header('authorization'), params }));
  });

  // RFC 7662 §2.1: the caller must authenticate.
  app.post(paths.introspection, async (c) => {
    const params = await readForm(c, maxBytes);
    const caller = await authenticate(c.req.header('authorization'), params);
    return noStoreJson(c, await introspectToken(deps, caller, tokenParam(params)));
  });

  // RFC 7009 §2.1.
  app.post(paths.revocation, async (c) => {
    const params = await readForm(c, maxBytes);
    const caller = await authenticate(c.req.header('authorization'), params);
    await revokeToken(deps, caller, tokenParam(params));
    c.header('Cache-Control', 'no-store');
    return c.body(null, 200);
  });

  for (const path of Object.values(paths)) app.all(path, methodNotAllowed('POST'));
  return app;
}
