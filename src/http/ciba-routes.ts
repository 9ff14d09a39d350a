// The backchannel authentication endpoint (OpenID CIBA Core §7): read the form, authenticate the
// client exactly as at the token endpoint (§7.1), call the service, answer §7.3 JSON with no-store.
// Errors are §13 JSON objects through the shared error handler; nothing here logs the request.
import { Hono } from 'hono';
import { authenticateClient } from '../clients/authenticate.ts';
import { clientLookup } from '../clients/directory.ts';
import { requestBackchannelAuthentication } from '../consent/ciba-request.ts';
import type { Deps } from '../deps.ts';
import { assertionContext } from '../grants/dispatch.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';
import { sourceAddress } from './source.ts';

export const cibaPath = '/bc-authorize';

export function cibaRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;

  app.post(cibaPath, async (c) => {
    const params = await readForm(c, maxBytes);
    const source = sourceAddress(c, deps);
    const { client } = await authenticateClient({ authorization: c.req.header('authorization'), params, source }, clientLookup(deps, source), assertionContext(deps, deps.now()));
    return noStoreJson(c, await requestBackchannelAuthentication(deps, client, params));
  });

  app.all(cibaPath, methodNotAllowed('POST'));
  return app;
}
