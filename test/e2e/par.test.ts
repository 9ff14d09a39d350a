// Pushed authorization requests (RFC 9126) and request objects (RFC 9101) against a real server:
// openid-client pushes as a real client would; /authorize's first step (resolveAuthorizeParams)
// is driven through the server's own deps.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestUriPrefix, resolveAuthorizeParams } from '../../src/authorize/pushed.ts';
import { randomId } from '../../src/oauth/ids.ts';
import { AuthorizePageError } from '../../src/authorize/request.ts';
import { parPath } from '../../src/http/paths.ts';
import { parseFormParams, type Params } from '../../src/oauth/params.ts';
import { basicAuth, postForm, testClock } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { clientKey, type ClientKey } from './support/keys.ts';

const parTtl = 90;
const callback = 'https://app.example.test/callback';
const api = 'https://api.demo.example';

describe('pushed authorization requests', () => {
  let server: TestConsulate;
  let jarKey: ClientKey;
  const clock = testClock();

  beforeAll(async () => {
    jarKey = await clientKey('ES256');
    server = await startConsulate({
      now: clock.now,
      files: {
        'consulate.yaml': ['listen:', '  host: 127.0.0.1', '  port: 0', 'authorization:', `  par_ttl_seconds: ${parTtl}`, 'keys:', '  reload_seconds: 0.05', ''].join('\n'),
        'clients/jar-app.yaml': [
          'client_id: jar-app',
          'token_endpoint_auth_method: private_key_jwt',
          `jwks: ${JSON.stringify({ keys: [jarKey.jwk] })}`,
          'grant_types: [authorization_code]',
          'redirect_uris: [https://jar.example.test/callback]',
          'resources:',
          `  ${api}:`,
          '    scopes: [read-data]',
          '',
        ].join('\n'),
        'clients/par-spa.yaml': [
          'client_id: par-spa',
          'token_endpoint_auth_method: none',
          'grant_types: [authorization_code]',
          'redirect_uris: [http://127.0.0.1/par-spa/callback]',
          'require_par: true',
          'resources:',
          `  ${api}:`,
          '    scopes: [read-data]',
          '',
        ].join('\n'),
      },
    });
  });
  afterAll(async () => server?.stop());

  /** openid-client with the server's metadata plus the PAR endpoint (until discovery lists it). */
  async function configuration(clientId: string, auth: client.ClientAuth) {
    const discovered = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as client.ServerMetadata;
    const metadata: client.ServerMetadata = {
      ...discovered,
      authorization_endpoint: discovered.authorization_endpoint ?? `${server.issuer}/authorize`,
      pushed_authorization_request_endpoint: discovered.pushed_authorization_request_endpoint ?? server.issuer + parPath,
    };
    const config = new client.Configuration(metadata, clientId, undefined, auth);
    client.allowInsecureRequests(config);
    // Keep the raw PAR answer, which openid-client does not expose.
    const seen: { status?: number; headers?: Headers; body?: Record<string, unknown> } = {};
    config[client.customFetch] = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      if (new URL(url).pathname === parPath) Object.assign(seen, { status: response.status, headers: response.headers, body: await response.clone().json() });
      return response;
    };
    return { config, seen };
  }

  const pkce = async () => client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
  const webAppPush = async (params: Record<string, string> = {}) => {
    const { config, seen } = await configuration('web-app', client.ClientSecretBasic(secrets['web-app']));
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: callback,
      scope: 'openid read-data',
      resource: api,
      code_challenge: await pkce(),
      code_challenge_method: 'S256',
      state: 'state-1',
      ...params,
    });
    return { url, seen, requestUri: url.searchParams.get('request_uri') as string };
  };
  const authorizeParams = (query: Record<string, string>) => parseFormParams(new URLSearchParams(query).toString());
  /** /authorize's first step for `browser` (its browser cookie; default a new browser each time). */
  const resolve = (clientId: string, query: Record<string, string>, browser = randomId()): Promise<Params> =>
    resolveAuthorizeParams(server.deps, server.config.clients.get(clientId)!, authorizeParams({ client_id: clientId, ...query }), browser);
  const pageError = async (promise: Promise<unknown>): Promise<AuthorizePageError> => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizePageError);
    return error as AuthorizePageError;
  };

  it('openid-client pushes: 201, a request_uri URN, expires_in from config, never cached', async () => {
    const { url, seen, requestUri } = await webAppPush();
    expect(seen.status).toBe(201);
    expect(seen.headers?.get('cache-control')).toBe('no-store');
    expect(Object.keys(seen.body ?? {}).sort()).toEqual(['expires_in', 'request_uri']);
    expect(seen.body?.expires_in).toBe(parTtl);
    expect(requestUri).toMatch(new RegExp(`^${requestUriPrefix}[A-Za-z0-9_-]{43}$`));
    // The browser only ever sees client_id and request_uri.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  });

  it('the pushed parameters come back to one browser, without the client credentials; another browser is refused', async () => {
    const { requestUri } = await webAppPush({ state: 'pushed-state' });
    // Outer parameters other than client_id do not count.
    const browser = randomId();
    const params = await resolve('web-app', { request_uri: requestUri, state: 'outer-state', redirect_uri: 'https://evil.example/cb' }, browser);
    expect(params.get('state')).toBe('pushed-state');
    expect(params.get('redirect_uri')).toBe(callback);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.all('resource')).toEqual([api]);
    expect(params.get('client_id')).toBe('web-app');
    for (const name of ['client_secret', 'client_assertion', 'request_uri']) expect(params.get(name)).toBeUndefined();
    expect((await resolve('web-app', { request_uri: requestUri }, browser)).get('state')).toBe('pushed-state');
    const again = await pageError(resolve('web-app', { request_uri: requestUri }));
    expect(again).toMatchObject({ reason: 'invalid_request_uri', title: 'Request already used' });
  });

  it('a request_uri presented with another client_id is refused and used up', async () => {
    const { requestUri } = await webAppPush();
    expect(await pageError(resolve('par-spa', { request_uri: requestUri }))).toMatchObject({ reason: 'invalid_request_uri' });
    expect(await pageError(resolve('web-app', { request_uri: requestUri }))).toMatchObject({ reason: 'invalid_request_uri' });
  });

  it('an expired request_uri is refused; unknown and malformed ones too', async () => {
    const { requestUri } = await webAppPush();
    clock.advance(parTtl + 1);
    try {
      expect(await pageError(resolve('web-app', { request_uri: requestUri }))).toMatchObject({ reason: 'invalid_request_uri', title: 'Request expired', detail: 'This sign-in request has expired; start again from the app.' });
    } finally {
      clock.advance(-(parTtl + 1));
    }
    expect(await pageError(resolve('web-app', { request_uri: `${requestUriPrefix}${'A'.repeat(43)}` }))).toMatchObject({ reason: 'invalid_request_uri' });
    expect(await pageError(resolve('web-app', { request_uri: 'https://app.example.test/request.jwt' }))).toMatchObject({ reason: 'invalid_request_uri' });
  });

  it('a public client may push; with require_par it is refused at /authorize without a request_uri', async () => {
    const { config } = await configuration('par-spa', client.None());
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: 'http://127.0.0.1/par-spa/callback',
      scope: 'read-data',
      code_challenge: await pkce(),
      code_challenge_method: 'S256',
    });
    const params = await resolve('par-spa', { request_uri: url.searchParams.get('request_uri') as string });
    expect(params.get('scope')).toBe('read-data');
    const direct = resolve('par-spa', { response_type: 'code', redirect_uri: 'http://127.0.0.1/par-spa/callback', scope: 'read-data' });
    expect(await pageError(direct)).toMatchObject({ reason: 'par_required' });
  });

  describe('refusals are JSON errors, never redirects, and store nothing', () => {
    const valid = async () => ({
      client_id: 'web-app',
      response_type: 'code',
      redirect_uri: callback,
      scope: 'read-data',
      code_challenge: await pkce(),
      code_challenge_method: 'S256',
    });
    const auth = { authorization: basicAuth('web-app', secrets['web-app']) };
    const pushedCount = () => {
      const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM pushed_requests').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    let before = 0;
    beforeEach(() => {
      before = pushedCount();
    });
    afterEach(() => {
      expect(pushedCount()).toBe(before);
    });

    it('no client authentication: 401 invalid_client', async () => {
      const response = await postForm(server, parPath, await valid());
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('an unregistered redirect_uri: 400 invalid_request, no Location', async () => {
      const response = await postForm(server, parPath, { ...(await valid()), redirect_uri: 'https://evil.example/cb' }, auth);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_request', error_description: 'redirect_uri is missing or not registered for this client' });
      expect(response.headers.get('location')).toBeNull();
    });

    it('no PKCE, a pushed request_uri, an unknown resource: the RFC error codes', async () => {
      const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = await valid();
      expect(await postForm(server, parPath, noPkce, auth)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      const withUri = { ...(await valid()), request_uri: `${requestUriPrefix}${'A'.repeat(43)}` };
      expect(await postForm(server, parPath, withUri, auth)).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'request_uri must not be pushed' } });
      expect(await postForm(server, parPath, { ...(await valid()), resource: 'https://unknown.example' }, auth)).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
      expect(await postForm(server, parPath, { ...(await valid()), client_id: 'par-spa' }, auth)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });

    it('GET is 405 with Allow: POST', async () => {
      const response = await fetch(new URL(parPath, server.url));
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });

  describe('request objects', () => {
    const jarParams = async (extra: Record<string, string> = {}) => ({
      redirect_uri: 'https://jar.example.test/callback',
      scope: 'openid read-data',
      code_challenge: await pkce(),
      code_challenge_method: 'S256',
      response_type: 'code',
      state: 'signed-state',
      ...extra,
    });
    const jarConfiguration = () => configuration('jar-app', client.PrivateKeyJwt(jarKey.privateKey));
    /** A request object signed by openid-client (typ oauth-authz-req+jwt, iss, aud, exp, jti). */
    const requestObject = async (extra: Record<string, string> = {}) => {
      const { config } = await jarConfiguration();
      const url = await client.buildAuthorizationUrlWithJAR(config, await jarParams(extra), { key: jarKey.privateKey, kid: jarKey.kid });
      return url.searchParams.get('request') as string;
    };

    it('a signed request object pushed to /par works; only its parameters are kept', async () => {
      const { config, seen } = await jarConfiguration();
      const url = await client.buildAuthorizationUrlWithPAR(config, { request: await requestObject(), state: 'outer-state' });
      expect(seen.status).toBe(201);
      const params = await resolve('jar-app', { request_uri: url.searchParams.get('request_uri') as string });
      expect(params.get('state')).toBe('signed-state');
      expect(params.get('redirect_uri')).toBe('https://jar.example.test/callback');
      expect(params.get('request')).toBeUndefined();
    });

    it('a tampered request object is 400 invalid_request_object', async () => {
      const [header, , signature] = (await requestObject()).split('.');
      const payload = Buffer.from(JSON.stringify({ iss: 'jar-app', aud: server.issuer, exp: clock.now() + 60, ...(await jarParams({ redirect_uri: 'https://evil.example/cb' })) })).toString('base64url');
      const { config, seen } = await jarConfiguration();
      await expect(client.buildAuthorizationUrlWithPAR(config, { request: `${header}.${payload}.${signature}` })).rejects.toThrow();
      expect(seen.status).toBe(400);
      expect(seen.body?.error).toBe('invalid_request_object');
    });

    it('at /authorize by value: only the request object counts; a bad one is a page, not a redirect', async () => {
      const params = await resolve('jar-app', { request: await requestObject(), state: 'outer-state', scope: 'openid' });
      expect(params.get('state')).toBe('signed-state');
      expect(params.get('scope')).toBe('openid read-data');
      const [header, payload] = (await requestObject()).split('.');
      const forged = await pageError(resolve('jar-app', { request: `${header}.${payload}.AAAA` }));
      expect(forged).toMatchObject({ reason: 'invalid_request_object' });
      expect(await pageError(resolve('jar-app', { request: await requestObject(), request_uri: `${requestUriPrefix}x` }))).toMatchObject({ reason: 'request_and_request_uri' });
    });
  });

  it('no secret, assertion or request_uri id reaches the log', async () => {
    const { requestUri } = await webAppPush();
    const raw = server.rawLogs();
    expect(raw).not.toContain(secrets['web-app']);
    expect(raw).not.toContain(requestUri.slice(requestUriPrefix.length));
    expect(raw).not.toContain('client_assertion=');
  });
});
