// The one OpenID implementation of the connector port, on openid-client: discovery, code flow
// with PKCE S256, state, nonce, ID token validation (signature from the upstream JWKS, iss, aud,
// exp, nonce, auth_time with max_age), the RFC 9207 iss check, optional userinfo; bounded timeouts.
// Entra multi-tenant authorities (entra-tenants.ts) take the two-pass exchange of tenant-exchange.ts.
import { compactVerify } from 'jose';
import { upstreamKeys } from './upstream-keys.ts';
import { upstreamTokenAlgorithms } from './upstream-token-verifier.ts';
import * as client from 'openid-client';
import type { UpstreamConfig } from '../config/schema.ts';
import { UpstreamError, type LoginChecks, type LoginRequest, type UpstreamConnector, type UpstreamIdentity } from './connector.ts';
import { authorityDiscoveryUrl, isMultiTenantAuthority, issuerTemplate } from './entra-tenants.ts';
import { exchangeAtTenant } from './tenant-exchange.ts';
import { tracedUpstreamFetch } from './upstream-trace.ts';

const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createOidcConnector(upstream: UpstreamConfig, defaultTimeoutMs: number): UpstreamConnector {
  const timeoutSeconds = Math.max(1, Math.ceil((upstream.timeout_ms ?? defaultTimeoutMs) / 1000));
  const issuer = new URL(upstream.issuer);
  // Plain http is allowed only for loopback issuers (the demo and the tests' stand-in IdPs).
  const insecure = issuer.protocol === 'http:' && loopback.has(issuer.hostname);
  const auth = upstream.client_auth_method === 'client_secret_post' ? client.ClientSecretPost(upstream.client_secret) : client.ClientSecretBasic(upstream.client_secret);
  const multiTenant = isMultiTenantAuthority(upstream.kind, upstream.issuer);
  // openid-client checks the ID token's claims (iss, aud, exp, nonce, auth_time); its signature is
  // checked here against upstream-keys.ts, which fetches a rotated key at once (openid-client's own
  // key cache would refuse an unknown kid for up to a minute after a rotation).
  const configure = (config: client.Configuration): client.Configuration => {
    config.timeout = timeoutSeconds;
    config[client.customFetch] = tracedUpstreamFetch(upstream.id, () => config.serverMetadata());
    if (insecure) client.allowInsecureRequests(config);
    return config;
  };
  let configuration: Promise<client.Configuration> | undefined;

  /** The ID token is signed by a key the upstream publishes, with an asymmetric algorithm (RFC 8725 §3.1). */
  const verifyIdTokenSignature = async (idToken: string) => {
    try {
      await compactVerify(idToken, await upstreamKeys(upstream, upstream.timeout_ms ?? defaultTimeoutMs), { algorithms: upstreamTokenAlgorithms });
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError('invalid_response', `upstream ID token signature: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };

  const discover = () => {
    // At a multi-tenant authority the discovered issuer is a template, never the authority:
    // discover from the document's URL (openid-client then skips its issuer comparison) and
    // compare with the expected template here instead.
    const where = multiTenant ? authorityDiscoveryUrl(upstream.issuer) : issuer;
    configuration ??= client
      .discovery(where, upstream.client_id, undefined, auth, { timeout: timeoutSeconds, [client.customFetch]: tracedUpstreamFetch(upstream.id, () => undefined), ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) })
      .then((config) => {
        const announced = config.serverMetadata().issuer;
        if (multiTenant && announced !== issuerTemplate(upstream.issuer)) {
          throw new UpstreamError('invalid_response', `multi-tenant authority announced issuer ${announced.slice(0, 200)}, not ${issuerTemplate(upstream.issuer)}`);
        }
        return configure(config);
      })
      .catch((error: unknown) => {
        configuration = undefined; // try again on the next login
        throw wrap(error, 'discovery');
      });
    return configuration;
  };

  return {
    id: upstream.id,
    async loginUrl(request: LoginRequest) {
      const config = await discover();
      const parameters: Record<string, string> = {
        redirect_uri: request.redirectUri,
        scope: upstream.scopes.join(' '),
        response_type: 'code',
        state: request.state,
        nonce: request.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(request.codeVerifier),
        code_challenge_method: 'S256',
      };
      if (request.acrValues) parameters.acr_values = request.acrValues;
      if (request.maxAge !== undefined) parameters.max_age = String(request.maxAge);
      if (request.prompt) parameters.prompt = request.prompt;
      if (request.loginHint) parameters.login_hint = request.loginHint;
      return client.buildAuthorizationUrl(config, parameters);
    },

    async completeLogin(callbackUrl: URL, checks: LoginChecks): Promise<UpstreamIdentity> {
      let config = await discover();
      const upstreamError = callbackUrl.searchParams.get('error');
      if (upstreamError) throw new UpstreamError('access_denied', `upstream answered ${upstreamError.slice(0, 64)}`);
      const grantChecks = () => ({
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
        ...(checks.maxAge !== undefined ? { maxAge: checks.maxAge } : {}),
      });
      let tokens;
      try {
        if (multiTenant) {
          ({ tokens, config } = await exchangeAtTenant(config, callbackUrl, grantChecks, {
            clientId: upstream.client_id,
            auth,
            template: issuerTemplate(upstream.issuer),
            allowedTenants: upstream.allowed_tenants,
            configure,
          }));
        } else {
          tokens = await client.authorizationCodeGrant(config, callbackUrl, grantChecks());
        }
      } catch (error) {
        throw wrap(error, 'code exchange');
      }
      const idClaims = tokens.claims();
      if (!idClaims || !tokens.id_token) throw new UpstreamError('invalid_response', 'no ID token');
      await verifyIdTokenSignature(tokens.id_token);
      let claims: Record<string, unknown> = { ...idClaims };
      if (upstream.userinfo) {
        try {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          // The ID token wins where both speak: it is signed.
          claims = { ...info, ...idClaims };
        } catch (error) {
          throw wrap(error, 'userinfo');
        }
      }
      return { upstreamId: upstream.id, issuer: idClaims.iss, subject: idClaims.sub, claims: Object.freeze(claims) };
    },
  };
}

function wrap(error: unknown, step: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const name = error instanceof Error ? error.name : '';
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : '';
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'OAUTH_TIMEOUT') return new UpstreamError('timeout', `upstream ${step} timed out`, { cause: error });
  if (name === 'TypeError' && /fetch failed/i.test(error instanceof Error ? error.message : '')) return new UpstreamError('unreachable', `upstream ${step} unreachable`, { cause: error });
  // A 5xx (with an OAuth error body or any other) is the upstream failing, not the person: a gateway error.
  const status = error instanceof client.ResponseBodyError ? error.status : httpStatusOf(error instanceof Error ? error.cause : undefined);
  if (status !== undefined && status >= 500) return new UpstreamError('unreachable', `upstream ${step} failed with HTTP ${status}`, { cause: error });
  if (error instanceof client.ResponseBodyError) return new UpstreamError('rejected', `upstream ${step} refused: ${error.error}`, { cause: error });
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return new UpstreamError('invalid_response', `upstream ${step} failed: ${error instanceof Error ? error.message : String(error)}${cause}`, { cause: error });
}

/** The status of the HTTP response openid-client names as an error's cause (a Response, or its status in `cause`). */
function httpStatusOf(cause: unknown): number | undefined {
  if (cause instanceof Response) return cause.status;
  if (cause && typeof cause === 'object' && 'status' in cause && typeof cause.status === 'number') return cause.status;
  return undefined;
}
