// Client authentication middleware for the endpoints where a client speaks for itself with a form
// body (introspection, revocation, PAR, CIBA, device authorization, usage): read the form once,
// authenticate exactly as the token endpoint does (clients/authenticate.ts), and hand both on as
// c.get('form') and c.get('client'). A failure is the error the handler would have thrown (401
// invalid_client and the like, through app.onError); nothing after it runs.
import type { Context, MiddlewareHandler } from 'hono';
import { authenticateClient, type AuthenticatedClient } from '../clients/authenticate.ts';
import { assertionContext } from '../clients/auth-context.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import type { Params } from '../oauth/params.ts';
import { readForm } from './form.ts';
import { sourceAddress } from './source.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's form (clientAuth): parsed once, duplicated parameters refused. */
    form: Params;
    /** The authenticated client (clientAuth) and how it authenticated. */
    client: AuthenticatedClient;
  }
}

/** The caller of this request, from its Authorization header and form; throws the RFC 6749 §5.2 error. */
export function authenticateCaller(deps: Deps, c: Context, params: Params): Promise<AuthenticatedClient> {
  const source = sourceAddress(c, deps);
  return authenticateClient({ authorization: c.req.header('authorization'), params, source }, clientLookup(deps, source), assertionContext(deps, deps.now()));
}

export function clientAuth(deps: Deps): MiddlewareHandler {
  return async function clientAuth(c, next) {
    const form = await readForm(c, deps.config.main.http.max_body_bytes);
    c.set('form', form);
    c.set('client', await authenticateCaller(deps, c, form));
    await next();
  };
}
