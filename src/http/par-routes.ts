// The pushed authorization request endpoint (RFC 9126 §2): the client authenticates exactly as at
// the token endpoint (a public client names itself), and gets a single-use request_uri.
import { Hono } from 'hono';
import { pushAuthorizationRequest } from '../authorize/pushed.ts';
import type { Deps } from '../deps.ts';
import { methodNotAllowed } from './errors.ts';
import { noStoreJson } from './respond.ts';
import { checkRequestProof, dpopHeaderValues } from '../dpop/request.ts';
import { clientAuth } from './client-auth.ts';
import { dpopNonce } from './dpop-nonce.ts';
import { parPath } from './paths.ts';

export function parRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.post(parPath, dpopNonce(deps, 'par'), clientAuth(deps), async (c) => {
    const dpop = await checkRequestProof(deps, { proofs: dpopHeaderValues(c.req.header('dpop')), method: 'POST', path: parPath, endpoint: 'par' });
    return noStoreJson(c, await pushAuthorizationRequest(deps, c.get('client').client, c.get('form'), dpop), 201);
  });

  app.all(parPath, methodNotAllowed('POST'));
  return app;
}
