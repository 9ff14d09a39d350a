// Discovery (RFC 8414, OpenID Discovery) and JWKS. The issuer and every URL come from config,
// never from Host or X-Forwarded-* headers; the metadata lists only what is implemented.
import { Hono, type Context } from 'hono';
import { assertionAlgorithms } from '../clients/assertion.ts';
import { authMethods } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { prompts, responseModes } from '../authorize/request.ts';
import { supportedGrantTypes } from '../grants/dispatch.ts';
import { identityScopeClaims } from '../oauth/identity-scopes.ts';
import { signingAlgs } from '../passports/keys.ts';
import { dpopAlgorithms } from '../dpop/proof.ts';
import { methodNotAllowed } from './errors.ts';
import { cibaRequestAlgorithms } from '../consent/ciba-request-object.ts';
import { authorizePaths, cibaPath, devicePaths, endSessionPath, jwksPath, oauthPaths, parPath, registrationPath, userinfoPath } from './paths.ts';

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
    token_endpoint: base + oauthPaths.token,
    jwks_uri: base + jwksPath,
    introspection_endpoint: base + oauthPaths.introspection,
    revocation_endpoint: base + oauthPaths.revocation,
    grant_types_supported: supportedGrantTypes(),
    // The browser flow: authorization code with PKCE S256 only, PAR, request objects, JARM.
    authorization_endpoint: base + authorizePaths.authorize,
    pushed_authorization_request_endpoint: base + parPath,
    device_authorization_endpoint: base + devicePaths.authorization,
    end_session_endpoint: base + endSessionPath,
    require_pushed_authorization_requests: false,
    response_types_supported: ['code'],
    response_modes_supported: [...responseModes],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    authorization_signing_alg_values_supported: [...signingAlgs],
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: assertionAlgorithms,
    prompt_values_supported: [...prompts],
    // MCP clients: a URL as client_id (Client ID Metadata Documents), and RFC 7591 when enabled.
    client_id_metadata_document_supported: deps.config.main.client_id_metadata_documents.enabled,
    ...(deps.config.main.dynamic_registration.enabled ? { registration_endpoint: base + registrationPath } : {}),
    ...authMeta('token_endpoint', authMethods),
    ...authMeta('introspection_endpoint'),
    ...authMeta('revocation_endpoint'),
    scopes_supported: [...new Set(resources.flatMap((r) => Object.keys(r.scopes)))],
    authorization_details_types_supported: [...new Set(resources.flatMap((r) => Object.keys(r.authorization_details_types)))],
    // DPoP (RFC 9449 §5.1): asymmetric algorithms only.
    dpop_signing_alg_values_supported: [...dpopAlgorithms],
    // CIBA (Core §4): poll and ping; no user_code.
    backchannel_authentication_endpoint: base + cibaPath,
    backchannel_token_delivery_modes_supported: ['poll', 'ping'],
    backchannel_authentication_request_signing_alg_values_supported: [...cibaRequestAlgorithms],
    backchannel_user_code_parameter_supported: false,
    // OpenID Connect: ID tokens and userinfo (Discovery §3).
    userinfo_endpoint: base + userinfoPath,
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    subject_types_supported: ['public'],
    claims_supported: [...new Set([...Object.values(identityScopeClaims).flat(), 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'azp', 'at_hash'])],
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
