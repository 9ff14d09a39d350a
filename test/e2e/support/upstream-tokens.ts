// Real tokens from a stand-in upstream IdP, got the way another application registered there
// would get them: openid-client runs discovery, authorization code + PKCE (the person logs in on
// the stand-in's pages) and the token request, with an RFC 8707 resource when an API is named.
import * as client from 'openid-client';
import type { Upstream, UpstreamClient } from './upstreams.ts';

export type AppTokens = { idToken: string; accessToken: string; claims: client.IDToken };

/** Where `app` is registered: the issuer, or for a multi-tenant Entra stand-in, one tenant's issuer. */
export const appIssuer = (upstream: Upstream, tenantId?: string): string => (tenantId ? `${upstream.url}/${tenantId}/v2.0` : upstream.issuer);

export async function appTokens(
  upstream: Upstream,
  app: UpstreamClient,
  username: string,
  options: { scope?: string; resource?: string; tenantId?: string } = {},
): Promise<AppTokens> {
  const config = await client.discovery(new URL(appIssuer(upstream, options.tenantId)), app.client_id, undefined, client.ClientSecretBasic(app.client_secret), {
    execute: [client.allowInsecureRequests],
  });
  const redirectUri = app.redirect_uris[0] as string;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const resource = options.resource ? { resource: options.resource } : undefined;
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...resource,
  });
  const callback = new URL(await upstream.login(url, username));
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, resource);
  return { idToken: tokens.id_token as string, accessToken: tokens.access_token, claims: tokens.claims() as client.IDToken };
}
