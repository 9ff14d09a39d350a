// Discovery (RFC 8414, OpenID Discovery) and JWKS. The issuer and every URL come from config,
// never from Host or X-Forwarded-* headers; the metadata lists only what is implemented.
import { Hono, type Context } from 'hono';
import { assertionAlgorithms } from '../clients/assertion.ts';
import { authMethods } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { supportedGrantTypes } from '../grants/dispatch.ts';
import { methodNotAllowed } from './errors.ts';
import { paths } from './oauth-routes.ts';

export const jwksPath = '/jwks';

export function serverMetadata(deps: Deps): Record<string, unknown> {
  const base = deps.issuer.replace(/\/$/, '');
  const resources = [...deps.config.resources.values()];
  // Public clients (`none`) only reach the token endpoint; introspection and revocation need a credential.
  const authMeta = (prefix: string, methods: readonly string[] = authMethods.filter((m) => m !== 'none')) => ({
    [`${prefix}_auth_methods_supported`]: [...methods],
    [`${prefix}_auth_signing_alg_values_supported`]: assertionAlgorithms,
  });
  return {
    issuer: deps.issuer,
    token_endpoint: base + paths.token,
    jwks_uri: base + jwksPath,
    introspection_endpoint: base + paths.introspection,
    revocation_endpoint: base + paths.revocation,
    grant_types_supported: supportedGrantTypes(),
    response_types_supported: [],
    ...authMeta('token_endpoint', authMethods),
    ...authMeta('introspection_endpoint'),
    ...authMeta('revocation_endpoint'),
    scopes_supported: [...new Set(resources.flatMap((r) => Object.keys(r.scopes)))],
    authorization_details_types_supported: [...new Set(resources.flatMap((r) => Object.keys(r.authorization_details_types)))],
  };
}

export function metadataRoutes(deps: Deps): Hono {
  const app = new Hono();
  const metadata = serverMetadata(deps);
  const serve = (c: Context) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(metadata);
  };
  const wellKnown = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
  for (const path of wellKnown) app.get(path, serve);

  app.get(jwksPath, async (c) => {
    c.header('Cache-Control', `public, max-age=${deps.config.main.keys.jwks_max_age_seconds}`);
    return c.json(await deps.keyring.jwks(deps.now()));
  });
  for (const path of [...wellKnown, jwksPath]) app.all(path, methodNotAllowed('GET'));
  return app;
}
