// Dynamic client registration endpoint (RFC 7591 §3), served only when the operator enables it.
// With `initial_access_token_hash` set, registering needs that Bearer token (§3, "protected").
// Answers: 201 the client (its secret shown this once); 400 invalid_redirect_uri,
// invalid_client_metadata or invalid_software_statement; 401 invalid_token; 413; 503 when full.
import { Hono } from 'hono';
import { registerClient } from '../clients/registration.ts';
import { verifySecret } from '../clients/secrets.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { bearerChallenge } from './challenges.ts';
import { methodNotAllowed } from './errors.ts';
import { readJson } from './form.ts';
import { noStoreJson } from './respond.ts';
import { sourceAddress } from './source.ts';
import { registrationPath } from './paths.ts';

export function registrationRoutes(deps: Deps): Hono {
  const app = new Hono();
  const settings = deps.config.main.dynamic_registration;
  if (!settings.enabled) return app;
  app.post(registrationPath, async (c) => {
    // Every attempt counts (rate_limits.registrations), before the token and the body are read.
    await deps.rateLimits.registration(sourceAddress(c, deps));
    if (settings.initial_access_token_hash !== undefined) {
      const token = /^Bearer ([\x21-\x7E]+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      if (token === undefined || !(await verifySecret(token, settings.initial_access_token_hash))) {
        throw new OAuthError('invalid_token', 'an initial access token is required to register', { headers: { 'WWW-Authenticate': bearerChallenge({ code: 'invalid_token' }) } });
      }
    }
    const body = await readJson(c, deps.config.main.http.max_body_bytes, new OAuthError('invalid_client_metadata', 'the body must be JSON (application/json)'));
    const { response } = await registerClient(deps, body);
    return noStoreJson(c, response, 201);
  });
  app.all(registrationPath, methodNotAllowed('POST'));
  return app;
}
