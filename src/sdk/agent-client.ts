// The agent SDK: how an AI agent gets Passports from Consulate. Client credentials, token exchange
// (RFC 8693) that may pause for approval and resume by polling the CIBA grant, CIBA itself and
// the device flow (RFC 8628), with client_secret_basic or private_key_jwt (RFC 7523) and DPoP
// (RFC 9449, nonces included). Polling (CIBA, device, paused exchanges) is its own loop over
// openid-client's grant requests, so an injected clock and sleep drive it in tests and an
// AbortSignal ends it at once. Every request goes through openid-client; this module must not
// speak HTTP itself, keep tokens anywhere but the in-memory Passport cache, or guess at errors:
// OAuth answers become ConsulateOAuthError (agent-errors.ts), everything else passes through.
import { AsyncLocalStorage } from 'node:async_hooks';
import * as client from 'openid-client';
import { ConsulateOAuthError, toConsulateError } from './agent-errors.ts';
import { createPassportCache, passportCacheKey, type PassportCacheKeyParts } from './passport-cache.ts';

const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceCodeGrant = 'urn:ietf:params:oauth:grant-type:device_code';

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
  /** Seconds since the epoch: the Passport cache's clock, and the one polling measures a request's expires_in by. */
  clock?: () => number;
  /**
   * Waits `ms` milliseconds between polls, rejecting with `signal.reason` when the signal aborts
   * (default: a timer). Tests inject one that returns at once (and moves their clock).
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Passports are reused until this many seconds before they expire (default 30). */
  cacheSkewSeconds?: number;
  /** false turns the Passport cache off. */
  cache?: boolean;
  /** Allows an http:// issuer, only on a loopback address (development and tests). */
  allowInsecureLoopback?: boolean;
  /** A fetch to send requests through (openid-client's customFetch): proxies, logging, tests. */
  fetch?: client.CustomFetch;
  /** Each HTTP request's time limit in seconds (default 30). A request that runs out fails as openid-client's OAUTH_TIMEOUT, not as an OAuth error. */
  timeoutSeconds?: number;
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

/** A timer that an AbortSignal cuts short (rejecting with its reason). */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

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
  if (options.timeoutSeconds !== undefined && !(Number.isFinite(options.timeoutSeconds) && options.timeoutSeconds > 0)) throw new TypeError('timeoutSeconds must be a positive number');
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  // Polling deadlines want better than whole seconds unless the caller brings a clock.
  const pollClock = options.clock ?? (() => Date.now() / 1000);
  const sleep = options.sleep ?? abortableSleep;
  // The caller's AbortSignal for the request in flight: openid-client's grant calls take none, so
  // every request goes through this fetch, which adds it (an abort cuts a hanging request short).
  const callerSignal = new AsyncLocalStorage<AbortSignal>();
  const send: client.CustomFetch = (url, init) => {
    const caller = callerSignal.getStore();
    const withSignal = caller ? { ...init, signal: init.signal ? AbortSignal.any([init.signal, caller]) : caller } : init;
    return options.fetch ? options.fetch(url, withSignal) : fetch(url, withSignal as RequestInit);
  };
  const cache = options.cache === false ? undefined : createPassportCache<AgentTokens>(options.cacheSkewSeconds === undefined ? {} : { skewSeconds: options.cacheSkewSeconds });

  // 1. Discovery once, on first use (a failure is retried on the next call).
  let setup: Promise<{ config: client.Configuration; DPoP: client.DPoPHandle | undefined; pair: client.CryptoKeyPair | undefined }> | undefined;
  const ready = () => {
    setup ??= (async () => {
      const discoveryOptions: client.DiscoveryRequestOptions = issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
      discoveryOptions[client.customFetch] = send;
      if (options.timeoutSeconds !== undefined) discoveryOptions.timeout = options.timeoutSeconds;
      const config = await client.discovery(issuer, options.clientId, undefined, auth, discoveryOptions);
      if (options.timeoutSeconds !== undefined) config.timeout = options.timeoutSeconds;
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
      return await (signal ? callerSignal.run(signal, work) : work());
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw toConsulateError(error);
    }
  };
  /** `reusable`: false for a Passport a person approved, which covers the one action asked for. */
  const cached = async (parts: PassportCacheKeyParts, fetchTokens: () => Promise<AgentTokens>, reusable: () => boolean = () => true) => {
    const key = passportCacheKey(parts);
    const hit = cache?.get(key, clock());
    if (hit) return hit;
    const tokens = await fetchTokens();
    if (reusable()) cache?.put(key, tokens, clock());
    return tokens;
  };
  // Parallel tool calls needing the agent's own Passport share one request. Only client
  // credentials: an exchange may turn into a person's approval, which covers one action.
  const inFlight = new Map<string, Promise<AgentTokens>>();
  const shared = (parts: PassportCacheKeyParts, fetchTokens: () => Promise<AgentTokens>) => {
    if (!cache) return fetchTokens();
    const key = passportCacheKey(parts);
    const running = inFlight.get(key);
    if (running) return running;
    const started = cached(parts, fetchTokens).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
  /**
   * Polls a waiting request's grant (CIBA §7.3, RFC 8628 §3.4–3.5) until it is decided: waits
   * `interval` seconds before each poll; authorization_pending waits again, slow_down adds 5 s for
   * this and every later poll (or takes the server's `interval` when larger); Retry-After longer
   * than the interval is honoured once. The request's `expires_in`, measured by `clock`, ends it
   * with expired_token (never a poll past it); the caller's signal ends it with its reason.
   */
  const pollGrant = async (grantType: string, parameters: Record<string, string>, waiting: { interval: number; expires_in: number }, signal?: AbortSignal) => {
    const { config, DPoP } = await ready();
    const deadline = pollClock() + waiting.expires_in;
    const expired = () => new ConsulateOAuthError('expired_token', { description: 'the request expired before it was approved' });
    let interval = waiting.interval;
    let wait = interval;
    for (;;) {
      const left = deadline - pollClock();
      if (left <= 0) throw expired();
      await sleep(Math.ceil(Math.min(wait, left) * 1000), signal);
      if (deadline - pollClock() <= 0) throw expired();
      try {
        return plain(await client.genericGrantRequest(config, grantType, parameters, { DPoP }));
      } catch (error) {
        if (!(error instanceof client.ResponseBodyError) || (error.error !== 'authorization_pending' && error.error !== 'slow_down')) throw error;
        if (error.error === 'slow_down') {
          const asked = error.cause.interval;
          interval = Math.max(interval + 5, typeof asked === 'number' && Number.isFinite(asked) ? asked : 0);
        }
        const retryAfter = /^\d+$/.test(error.response.headers.get('retry-after')?.trim() ?? '') ? Number(error.response.headers.get('retry-after')) : 0;
        wait = Math.max(interval, retryAfter);
      }
    }
  };
  const pollCiba = (pending: Pending, signal?: AbortSignal) => pollGrant(cibaGrant, { auth_req_id: pending.auth_req_id }, pending, signal);

  return {
    clientCredentials: (request = {}) =>
      shared({ kind: 'client_credentials', resource: [request.resource ?? []].flat().join(' '), scope: request.scope, authorizationDetails: request.authorizationDetails }, () =>
        run(async () => {
          const { config, DPoP } = await ready();
          return plain(await client.clientCredentialsGrant(config, targetParams(request), { DPoP }));
        }),
      ),

    exchange: (subjectToken, request = {}) => {
      const subjectTokenType = request.subjectTokenType ?? accessTokenType;
      let approved = false;
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
            approved = true;
            return pollCiba(pending, request.signal);
          }
        }, request.signal),
        () => !approved,
      );
    },

    ciba: (request) =>
      run(async () => {
        const { config } = await ready();
        const started = await client.initiateBackchannelAuthentication(
          config,
          // CIBA Core §7.1: an authentication request's scope includes openid.
          targetParams({ ...request, scope: ['openid', ...(request.scope ?? '').split(' ').filter((s) => s && s !== 'openid')].join(' ') }, {
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
        const { config } = await ready();
        const started = await client.initiateDeviceAuthorization(config, targetParams(request));
        request.onUserCode({ user_code: started.user_code, verification_uri: started.verification_uri, verification_uri_complete: started.verification_uri_complete, expires_in: started.expires_in });
        return pollGrant(deviceCodeGrant, { device_code: started.device_code }, { interval: started.interval ?? 5, expires_in: started.expires_in }, request.signal);
      }, request.signal),

    dpopKeyPair: async () => (options.dpop ? (await ready()).pair : undefined),
  };
}

