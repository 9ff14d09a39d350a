// The pushed authorization request endpoint (RFC 9126 §2): the client authenticates exactly as at
// the token endpoint (a public client names itself), and gets a single-use request_uri.
import { Hono } from 'hono';
import { pushAuthorizationRequest } from '../authorize/pushed.ts';
import { authenticateClient } from '../clients/authenticate.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import { assertionContext } from '../grants/dispatch.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';
import { isOAuthError } from '../oauth/errors.ts';
import { checkRequestProof, dpopHeaderValues, nonceHeader } from '../dpop/request.ts';
import { sourceAddress } from './source.ts';

export const parPath = '/par';

export function parRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;

  app.post(parPath, async (c) => {
    const params = await readForm(c, maxBytes);
    const nonce = nonceHeader(deps, 'par');
    try {
      const source = sourceAddress(c, deps);
      const { client } = await authenticateClient({ authorization: c.req.header('authorization'), params, source }, clientLookup(deps, source), assertionContext(deps, deps.now()));
      const dpop = await checkRequestProof(deps, { proofs: dpopHeaderValues(c.req.header('dpop')), method: 'POST', path: parPath, endpoint: 'par' });
      const pushed = await pushAuthorizationRequest(deps, client, params, dpop);
      for (const [name, value] of Object.entries(nonce)) c.header(name, value);
      return noStoreJson(c, pushed, 201);
    } catch (error) {
      if (isOAuthError(error)) Object.assign(error.headers, nonce, error.headers);
      throw error;
    }
  });

  app.all(parPath, methodNotAllowed('POST'));
  return app;
}
