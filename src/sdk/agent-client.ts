// The agent SDK: how an AI agent gets Passports from Consulate. Client credentials, token exchange
// (RFC 8693) that may pause for approval and resume by polling the CIBA grant, CIBA itself and
// the device flow (RFC 8628), with client_secret_basic or private_key_jwt (RFC 7523) and DPoP
// (RFC 9449, nonces included). Every request goes through openid-client; this module must not
// speak HTTP itself, keep tokens anywhere but the in-memory Passport cache, or guess at errors:
// OAuth answers become ConsulateOAuthError (agent-errors.ts), everything else passes through.
import * as client from 'openid-client';
import { toConsulateError } from './agent-errors.ts';
import { createPassportCache, passportCacheKey, type PassportCacheKeyParts } from './passport-cache.ts';

const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

export type AgentClientOptions = {
  issuer: string | URL;
  clientId: string;
  /** client_secret_basic. */
  clientSecret?: string;
  /** private_key_jwt: the client's signing key, and the `kid` its registered JWKS names it by. */
  privateKey?: client.CryptoKey;
  kid?: string;
  /** DPoP-bound Passports: true for a fresh ES256 key pair per client instance, or your own pair. */
  dpop?: boolean | client.CryptoKeyPair;
  /** Seconds since the epoch; the Passport cache's clock. */
  clock?: () => number;
  /** Passports are reused until this many seconds before they expire (default 30). */
  cacheSkewSeconds?: number;
  /** false turns the Passport cache off. */
  cache?: boolean;
  /** Allows an http:// issuer, only on a loopback address (development and tests). */
  allowInsecureLoopback?: boolean;
  /** A fetch to send requests through (openid-client's customFetch): proxies, logging, tests. */
  fetch?: client.CustomFetch;
};

export type AgentTokens = {
  access_token: string;
  token_type: string;
  expires_in?: number | undefined;
  scope?: string | undefined;
  issued_token_type?: string | undefined;
  refresh_token?: string | undefined;
  id_token?: string | undefined;
  authorization_details?: unknown;
};

export type Target = { resource?: string | string[]; scope?: string; authorizationDetails?: readonly Record<string, unknown>[] };
/** A paused request: what the caller may show while the approver decides. */
export type Pending = { auth_req_id: string; interval: number; expires_in: number };
export type Waiting = { onPending?: (pending: Pending) => void; signal?: AbortSignal };

export type AgentClient = {
  clientCredentials(request?: Target): Promise<AgentTokens>;
  exchange(subjectToken: string, request?: Target & Waiting & { actorToken?: string; actorTokenType?: string; subjectTokenType?: string }): Promise<AgentTokens>;
  ciba(request: Target & Waiting & { loginHint: string; bindingMessage?: string; requestedExpiry?: number }): Promise<AgentTokens>;
  deviceCode(request: Target & { onUserCode: (code: { user_code: string; verification_uri: string; verification_uri_complete?: string | undefined; expires_in: number }) => void; signal?: AbortSignal }): Promise<AgentTokens>;
  /** The DPoP public key's pair once the first request has made it; undefined without DPoP. */
  dpopKeyPair(): Promise<client.CryptoKeyPair | undefined>;
};

const loopback = new Set(['127.0.0.1', '[::1]', 'localhost']);

function clientAuth(options: AgentClientOptions): client.ClientAuth {
  if (options.clientSecret !== undefined && options.privateKey !== undefined) throw new TypeError('give clientSecret or privateKey, not both');
  if (options.clientSecret !== undefined) return client.ClientSecretBasic(options.clientSecret);
  if (options.privateKey !== undefined) return client.PrivateKeyJwt(options.kid === undefined ? options.privateKey : { key: options.privateKey, kid: options.kid });
  throw new TypeError('an agent client needs clientSecret or privateKey');
}

/** The target parameters (RFC 8707 resource, scope, RFC 9396 authorization_details) as a form. */
function targetParams(request: Target, extra: Record<string, string | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) params.set(name, value);
  for (const resource of [request.resource ?? []].flat()) params.append('resource', resource);
  if (request.scope) params.set('scope', request.scope);
  if (request.authorizationDetails) params.set('authorization_details', JSON.stringify(request.authorizationDetails));
  return params;
}

const plain = (r: client.TokenEndpointResponse): AgentTokens => ({
  access_token: r.access_token,
  token_type: r.token_type,
  expires_in: r.expires_in,
  scope: r.scope,
  issued_token_type: typeof r.issued_token_type === 'string' ? r.issued_token_type : undefined,
  refresh_token: r.refresh_token,
  id_token: r.id_token,
  authorization_details: r.authorization_details,
});

/** The paused exchange's answer (authorization_pending with auth_req_id), or undefined. */
function pendingOf(error: unknown): Pending | undefined {
  if (!(error instanceof client.ResponseBodyError) || error.error !== 'authorization_pending') return undefined;
  const { auth_req_id, interval, expires_in } = error.cause;
  if (typeof auth_req_id !== 'string' || typeof expires_in !== 'number') return undefined;
  return { auth_req_id, expires_in, interval: typeof interval === 'number' ? interval : 5 };
}

export function createAgentClient(options: AgentClientOptions): AgentClient {
  const issuer = new URL(options.issuer);
  if (issuer.protocol === 'http:' && !(options.allowInsecureLoopback && loopback.has(issuer.hostname))) throw new TypeError('the issuer must be https (http only on loopback with allowInsecureLoopback)');
  const auth = clientAuth(options);
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const cache = options.cache === false ? undefined : createPassportCache<AgentTokens>(options.cacheSkewSeconds === undefined ? {} : { skewSeconds: options.cacheSkewSeconds });

  // 1. Discovery once, on first use (a failure is retried on the next call).
  let setup: Promise<{ config: client.Configuration; DPoP: client.DPoPHandle | undefined; pair: client.CryptoKeyPair | undefined }> | undefined;
  const ready = () => {
    setup ??= (async () => {
      const discoveryOptions: client.DiscoveryRequestOptions = issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
      if (options.fetch) discoveryOptions[client.customFetch] = options.fetch;
      const config = await client.discovery(issuer, options.clientId, undefined, auth, discoveryOptions);
      // 2. One DPoP key pair per client instance; openid-client keeps the server's nonces.
      const pair = options.dpop === true ? await client.randomDPoPKeyPair('ES256') : options.dpop || undefined;
      return { config, pair, DPoP: pair ? client.getDPoPHandle(config, pair) : undefined };
    })().catch((error: unknown) => {
      setup = undefined;
      throw error;
    });
    return setup;
  };

  /** Runs a request, surfacing OAuth errors as ConsulateOAuthError and a caller's abort as its reason. */
  const run = async <T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      signal?.throwIfAborted();
      return await work();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw toConsulateError(error);
    }
  };
  const cached = async (parts: PassportCacheKeyParts, fetchTokens: () => Promise<AgentTokens>) => {
    const key = passportCacheKey(parts);
    const hit = cache?.get(key, clock());
    if (hit) return hit;
    const tokens = await fetchTokens();
    cache?.put(key, tokens, clock());
    return tokens;
  };
  /** The polling signal: the caller's, and the request's own lifetime. */
  const pollSignal = (expiresIn: number, signal?: AbortSignal) => {
    const lifetime = AbortSignal.timeout(expiresIn * 1000);
    return signal ? AbortSignal.any([signal, lifetime]) : lifetime;
  };
  const pollCiba = async (pending: Pending, signal?: AbortSignal) => {
    const { config, DPoP } = await ready();
    return plain(await client.pollBackchannelAuthenticationGrant(config, pending, undefined, { DPoP, signal: pollSignal(pending.expires_in, signal) }));
  };

  return {
    clientCredentials: (request = {}) =>
      cached({ kind: 'client_credentials', resource: [request.resource ?? []].flat().join(' '), scope: request.scope, authorizationDetails: request.authorizationDetails }, () =>
        run(async () => {
          const { config, DPoP } = await ready();
          return plain(await client.clientCredentialsGrant(config, targetParams(request), { DPoP }));
        }),
      ),

    exchange: (subjectToken, request = {}) => {
      const subjectTokenType = request.subjectTokenType ?? accessTokenType;
      const parts: PassportCacheKeyParts = { kind: 'token_exchange', resource: [request.resource ?? []].flat().join(' '), scope: request.scope, authorizationDetails: request.authorizationDetails, subjectToken, subjectTokenType, actorToken: request.actorToken };
      return cached(parts, () =>
        run(async () => {
          const { config, DPoP } = await ready();
          const params = targetParams(request, {
            subject_token: subjectToken,
            subject_token_type: subjectTokenType,
            actor_token: request.actorToken,
            actor_token_type: request.actorToken === undefined ? undefined : (request.actorTokenType ?? accessTokenType),
          });
          try {
            return plain(await client.genericGrantRequest(config, exchangeGrant, params, { DPoP }));
          } catch (error) {
            // A consent policy paused the exchange: collect the Passport through the CIBA grant.
            const pending = pendingOf(error);
            if (!pending) throw error;
            request.onPending?.(pending);
            return pollCiba(pending, request.signal);
          }
        }, request.signal),
      );
    },

    ciba: (request) =>
      run(async () => {
        const { config } = await ready();
        const started = await client.initiateBackchannelAuthentication(
          config,
          targetParams(request, {
            login_hint: request.loginHint,
            binding_message: request.bindingMessage,
            requested_expiry: request.requestedExpiry === undefined ? undefined : String(request.requestedExpiry),
          }),
        );
        const pending = { auth_req_id: started.auth_req_id, expires_in: started.expires_in, interval: started.interval ?? 5 };
        request.onPending?.(pending);
        return pollCiba(pending, request.signal);
      }, request.signal),

    deviceCode: (request) =>
      run(async () => {
        const { config, DPoP } = await ready();
        const started = await client.initiateDeviceAuthorization(config, targetParams(request));
        request.onUserCode({ user_code: started.user_code, verification_uri: started.verification_uri, verification_uri_complete: started.verification_uri_complete, expires_in: started.expires_in });
        return plain(await client.pollDeviceAuthorizationGrant(config, started, undefined, { DPoP, signal: pollSignal(started.expires_in, request.signal) }));
      }, request.signal),

    dpopKeyPair: async () => (options.dpop ? (await ready()).pair : undefined),
  };
}

