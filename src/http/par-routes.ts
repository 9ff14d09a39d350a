// The pushed authorization request endpoint (RFC 9126 §2): the client authenticates exactly as at
// the token endpoint (a public client names itself), and gets a single-use request_uri.
import { Hono } from 'hono';
import { pushAuthorizationRequest } from '../authorize/pushed.ts';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { assertionContext } from '../grants/dispatch.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';

export const parPath = '/par';

export function parRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;

  app.post(parPath, async (c) => {
    const params = await readForm(c, maxBytes);
    const { client } = await authenticateClient({ authorization: c.req.header('authorization'), params }, deps.config, assertionContext(deps, deps.now()));
    return noStoreJson(c, await pushAuthorizationRequest(deps, client, params), 201);
  });

  app.all(parPath, methodNotAllowed('POST'));
  return app;
}
