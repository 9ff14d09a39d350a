// The backchannel authentication endpoint (OpenID CIBA Core §7): read the form, authenticate the
// client exactly as at the token endpoint (§7.1), call the service, answer §7.3 JSON with no-store.
// Errors are §13 JSON objects through the shared error handler; nothing here logs the request.
import { Hono } from 'hono';
import { requestBackchannelAuthentication } from '../consent/ciba-request.ts';
import type { Deps } from '../deps.ts';
import { methodNotAllowed } from './errors.ts';
import { clientAuth } from './client-auth.ts';
import { noStoreJson } from './respond.ts';
import { cibaPath } from './paths.ts';

export function cibaRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.post(cibaPath, clientAuth(deps), async (c) => noStoreJson(c, await requestBackchannelAuthentication(deps, c.get('client').client, c.get('form'))));

  app.all(cibaPath, methodNotAllowed('POST'));
  return app;
}
