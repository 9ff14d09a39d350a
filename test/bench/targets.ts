// What `npm run bench` measures: each target is a Consulate endpoint and, where the peer
// (oidc-provider) has one doing the same work, the peer's. An endpoint prepares the request of one
// phase (warm-up or round): the same request every time, or, for single-use credentials (codes,
// refresh tokens, DPoP proofs), a fresh pool sized for that phase from a rate measured earlier in
// the run for a target at least as fast. Running out fails the run (load.ts).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { secrets } from '../e2e/support/consulate.ts';
import type { LoadRequest, Pooled } from './load.ts';
import { peerAuthorization, peerIntrospectionPath, peerOpaqueTokenBody, peerTokenBody } from './peer.ts';
import { exchangeAgent, exchangeAgentSecret, personRedirectUri, type PoolReply, type PoolRequest } from './person.ts';
import { basic } from './servers.ts';
import type { ServerProcess } from './spawn.ts';

export type Endpoint = {
  server: ServerProcess;
  /** The request of a phase lasting `seconds`; a pooled one holds one extra for the check. */
  prepare(seconds: number): Promise<LoadRequest>;
  /** Full check of the one response fetched before each phase; `sent` is the request body. */
  verifyJson(json: Record<string, unknown>, sent: string): boolean;
};
export type Target = { name: string; consulate: Endpoint; peer?: Endpoint & { name: string }; quick?: boolean };

export const names = {
  clientCredentials: 'client_credentials /token',
  introspection: 'introspection /introspect',
  dpop: 'client_credentials + DPoP /token',
  authorizationCode: 'authorization_code /token',
  refresh: 'refresh_token /token',
  tokenExchange: 'token exchange /token',
} as const;

/**
 * A pool holds rate × seconds × margin credentials plus what connections build but never get
 * answered. A refresh rotation does about the work of a code redemption and is sized from that
 * rate, with a wider margin (making the pool costs one redemption per token).
 */
export const poolMargins = { codes: 1.5, refreshTokens: 3 };

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const formHeaders = (authorization: string) => ({ authorization, 'content-type': 'application/x-www-form-urlencoded' });
const clientHeaders = (id: keyof typeof secrets) => formHeaders(basic(id, secrets[id]));

export const consulateTokenRequest = {
  path: '/token',
  headers: clientHeaders('agent-basic'),
  body: form({ grant_type: 'client_credentials', resource: 'https://api.demo.example', scope: 'read-data' }),
};
const isTokenResponse = (json: Record<string, unknown>) => typeof json.access_token === 'string' && String(json.token_type).toLowerCase() === 'bearer';
const looksLikeTokenResponse = (body: string) => body.includes('"access_token":"');
/** A person grant with openid for a client allowed refresh tokens: Passport, ID token and a new refresh token. */
const isPersonTokenResponse = (json: Record<string, unknown>) =>
  isTokenResponse(json) && typeof json.id_token === 'string' && typeof json.refresh_token === 'string' && String(json.scope).split(' ').includes('openid');
const looksLikePersonTokenResponse = (body: string) => body.includes('"access_token":"') && body.includes('"id_token":"') && body.includes('"refresh_token":"');

export async function post(url: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throw new Error(`POST ${url}${path}: ${error instanceof Error ? String(error.cause ?? error.message) : String(error)}`);
  }
}

async function tokenFrom(url: string, headers: Record<string, string>, body: string): Promise<string> {
  const { status, text } = await post(url, '/token', headers, body);
  const token = status === 200 ? (JSON.parse(text) as { access_token?: unknown }).access_token : undefined;
  if (typeof token !== 'string') throw new Error(`POST ${url}/token answered ${status} ${text.slice(0, 300)}`);
  return token;
}

/** An endpoint sending the same request every phase, made once on first use. */
function fixed(server: ServerProcess, make: () => Promise<Omit<LoadRequest, 'url'>>, verifyJson: Endpoint['verifyJson']): Endpoint {
  let made: Promise<LoadRequest> | undefined;
  return { server, prepare: () => (made ??= make().then((r) => ({ ...r, url: server.url }))), verifyJson };
}

async function makeProofs(htu: string, count: number): Promise<string[]> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const iat = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, () => new SignJWT({ jti: randomUUID(), htm: 'POST', htu }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt(iat).sign(privateKey)),
  );
}

export type TargetContext = {
  consulate: ServerProcess;
  /** Without it (bench:postgres), no target has a peer endpoint. */
  peer?: ServerProcess;
  connections: number;
  /** Median requests/s of Consulate for a target measured earlier in the run. */
  rateOf(name: string): number;
  log(line: string): void;
};

export function makeTargets(ctx: TargetContext): Target[] {
  const { consulate, peer } = ctx;
  const poolSize = (rateOf: string, seconds: number, margin: number) => Math.ceil(ctx.rateOf(rateOf) * seconds * margin) + 4 * ctx.connections + 2;
  const timed = async <T>(what: string, make: () => Promise<T>) => {
    const started = performance.now();
    const result = await make();
    ctx.log(`  pool: ${what}, made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  /** Asks the Consulate process for `count` fresh codes or refresh tokens, as form bodies for POST /token. */
  const personPool = async (make: PoolRequest['make'], count: number): Promise<Pooled[]> => {
    const reply = await timed(`${count} ${make.replace('_', ' ')}`, () => consulate.ask<PoolReply>({ make, count } satisfies PoolRequest));
    const bodies =
      make === 'codes'
        ? (reply.codes ?? []).map(({ code, verifier }) => form({ grant_type: 'authorization_code', code, redirect_uri: personRedirectUri, code_verifier: verifier }))
        : (reply.refreshTokens ?? []).map((token) => form({ grant_type: 'refresh_token', refresh_token: token }));
    if (bodies.length !== count) throw new Error(`asked for ${count} ${make}, got ${bodies.length}`);
    return bodies.map((body) => ({ body }));
  };
  const webApp = clientHeaders('web-app');

  return [
    {
      name: names.clientCredentials,
      quick: true,
      consulate: fixed(consulate, async () => consulateTokenRequest, isTokenResponse),
      ...(peer && { peer: { name: 'oidc-provider client_credentials /token (ES256 JWT)', ...fixed(peer, async () => ({ path: '/token', headers: formHeaders(peerAuthorization), body: peerTokenBody }), isTokenResponse) } }),
    },
    {
      // The demo resource server introspects a live Passport (issued just before); the peer
      // introspects an opaque token it issued to its own client.
      name: names.introspection,
      quick: true,
      consulate: fixed(
        consulate,
        async () => {
          const token = await tokenFrom(consulate.url, consulateTokenRequest.headers, consulateTokenRequest.body);
          return { path: '/introspect', headers: clientHeaders('demo-api'), body: form({ token }), verifyBody: (body: string) => body.startsWith('{"active":true') };
        },
        (json) => json.active === true && json.sub === 'agent-basic',
      ),
      ...(peer && {
        peer: {
          name: `oidc-provider ${peerIntrospectionPath} (opaque)`,
          ...fixed(
            peer,
            async () => {
              const token = await tokenFrom(peer.url, formHeaders(peerAuthorization), peerOpaqueTokenBody);
              return { path: peerIntrospectionPath, headers: formHeaders(peerAuthorization), body: form({ token }), verifyBody: (body: string) => body.startsWith('{"active":true') };
            },
            (json) => json.active === true,
          ),
        },
      }),
    },
    {
      // RFC 8693: the agent exchanges one person's Passport (the web app's, redeemed from a code just
      // before) for a read-data Passport: subject token verification, the delegation policy, a new
      // delegation and lineage row, mint, receipt. The subject Passport is not used up. Measured right
      // after client credentials, on a store of about the same size: its goal is a ratio to that
      // target, and the pooled targets below add ~1M rows (and expiring ones the minute purge deletes).
      name: names.tokenExchange,
      consulate: fixed(
        consulate,
        async () => {
          const [code] = await personPool('codes', 1);
          const subject = await tokenFrom(consulate.url, webApp, (code as Pooled).body);
          return {
            path: '/token',
            headers: formHeaders(basic(exchangeAgent, exchangeAgentSecret)),
            body: form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'read-data' }),
            verifyBody: (body: string) => body.includes('"issued_token_type":"'),
          };
        },
        (json) => isTokenResponse(json) && json.issued_token_type === 'urn:ietf:params:oauth:token-type:access_token',
      ),
    },
    {
      // client_credentials with a DPoP proof per request (RFC 9449: each jti once), made just before
      // the phase by this process, as a client would: ES256, htm, htu, iat, a fresh jti.
      name: names.dpop,
      consulate: {
        server: consulate,
        prepare: async (seconds) => {
          const count = poolSize(names.clientCredentials, seconds, poolMargins.codes);
          const proofs = await timed(`${count} DPoP proofs`, () => makeProofs(`${consulate.url}/token`, count));
          const pool = proofs.map((dpop) => ({ dpop, body: consulateTokenRequest.body }));
          return { url: consulate.url, path: '/token', headers: consulateTokenRequest.headers, pool, verifyBody: (body: string) => body.includes('"token_type":"DPoP"') };
        },
        verifyJson: (json) => typeof json.access_token === 'string' && json.token_type === 'DPoP',
      },
    },
    {
      // A code per request, as /authorize hands them out (PKCE S256, openid, one resource). Redeeming
      // does all a client_credentials issuance does and more (code, ID token, refresh token).
      name: names.authorizationCode,
      consulate: {
        server: consulate,
        prepare: async (seconds) => ({
          url: consulate.url,
          path: '/token',
          headers: webApp,
          pool: await personPool('codes', poolSize(names.clientCredentials, seconds, poolMargins.codes)),
          verifyBody: looksLikePersonTokenResponse,
        }),
        verifyJson: isPersonTokenResponse,
      },
    },
    {
      // A refresh token per request, each from a code redeemed (dispatchTokenRequest) before the phase.
      name: names.refresh,
      consulate: {
        server: consulate,
        prepare: async (seconds) => ({
          url: consulate.url,
          path: '/token',
          headers: webApp,
          pool: await personPool('refresh_tokens', poolSize(names.authorizationCode, seconds, poolMargins.refreshTokens)),
          verifyBody: looksLikePersonTokenResponse,
        }),
        // Rotated: a new refresh token, not the one sent.
        verifyJson: (json, sent) => isPersonTokenResponse(json) && json.refresh_token !== new URLSearchParams(sent).get('refresh_token'),
      },
    },
  ];
}

/** The bare-Hono baseline: POST /token answered with a fixed body as long as a token response. */
export const baselineEndpoint = (baseline: ServerProcess): Endpoint =>
  fixed(baseline, async () => ({ ...consulateTokenRequest, verifyBody: looksLikeTokenResponse }), isTokenResponse);

/** Sends the phase's first request (a pooled one is taken from the pool) and checks the answer fully. */
export async function checkOnce(label: string, endpoint: Endpoint, request: LoadRequest): Promise<LoadRequest> {
  const pooled = request.pool?.[0];
  const body = pooled ? pooled.body : (request.body ?? '');
  const headers = pooled?.dpop ? { ...request.headers, dpop: pooled.dpop } : request.headers;
  const { status, text } = await post(request.url, request.path, headers, body);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (status !== 200 || !endpoint.verifyJson(json, body)) throw new Error(`${label}: expected 200 with the expected JSON, got ${status} ${text.slice(0, 300)}`);
  return request.pool ? { ...request, pool: request.pool.slice(1) } : request;
}
