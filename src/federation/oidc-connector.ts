// The one OpenID implementation of the connector port, on openid-client: discovery, code flow
// with PKCE S256, state, nonce, ID token validation (signature from the upstream JWKS, iss, aud,
// exp, nonce, auth_time with max_age), the RFC 9207 iss check, optional userinfo; bounded timeouts.
import * as client from 'openid-client';
import type { UpstreamConfig } from '../config/schema.ts';
import { UpstreamError, type LoginChecks, type LoginRequest, type UpstreamConnector, type UpstreamIdentity } from './connector.ts';

const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createOidcConnector(upstream: UpstreamConfig, defaultTimeoutMs: number): UpstreamConnector {
  const timeoutSeconds = Math.max(1, Math.ceil((upstream.timeout_ms ?? defaultTimeoutMs) / 1000));
  const issuer = new URL(upstream.issuer);
  // Plain http is allowed only for loopback issuers (the demo and the tests' stand-in IdPs).
  const insecure = issuer.protocol === 'http:' && loopback.has(issuer.hostname);
  const auth = upstream.client_auth_method === 'client_secret_post' ? client.ClientSecretPost(upstream.client_secret) : client.ClientSecretBasic(upstream.client_secret);
  let configuration: Promise<client.Configuration> | undefined;

  const discover = () => {
    configuration ??= client
      .discovery(issuer, upstream.client_id, undefined, auth, { timeout: timeoutSeconds, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) })
      .then((config) => {
        config.timeout = timeoutSeconds;
        return config;
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
      const config = await discover();
      const upstreamError = callbackUrl.searchParams.get('error');
      if (upstreamError) throw new UpstreamError('access_denied', `upstream answered ${upstreamError.slice(0, 64)}`);
      let tokens;
      try {
        tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
          ...(checks.maxAge !== undefined ? { maxAge: checks.maxAge } : {}),
        });
      } catch (error) {
        throw wrap(error, 'code exchange');
      }
      const idClaims = tokens.claims();
      if (!idClaims) throw new UpstreamError('invalid_response', 'no ID token');
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
  if (error instanceof client.ResponseBodyError) return new UpstreamError('rejected', `upstream ${step} refused: ${error.error}`, { cause: error });
  return new UpstreamError('invalid_response', `upstream ${step} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
