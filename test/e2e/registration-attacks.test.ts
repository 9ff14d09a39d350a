// Dynamic client registration (RFC 7591) refusing what it must: malformed, oversized or unsafe
// metadata stores nothing; the initial access token and the max_clients cap hold.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, type Answer } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { register, stored, withRegistration } from './support/registration.ts';

describe('dynamic client registration under bad input', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': withRegistration() } });
  }, 60_000);
  afterAll(async () => server?.stop());

  describe('bad input is refused and stores nothing', () => {
    let before: { rows: number; audited: number };
    beforeEach(async () => {
      before = await stored(server);
    });
    afterEach(async () => {
      expect(await stored(server)).toEqual(before);
    });

    const expectError = (answer: Answer, status: number, error: string) => {
      expect(answer.status, answer.text).toBe(status);
      expect(answer.body.error).toBe(error);
      expect(answer.body.client_id).toBeUndefined();
      expect(answer.headers.get('cache-control')).toBe('no-store');
    };

    it('redirect_uris missing, empty, non-loopback http, with a fragment, with userinfo, with a wildcard, not a URI → invalid_redirect_uri', async () => {
      for (const body of [
        { token_endpoint_auth_method: 'none' },
        { redirect_uris: [] },
        { redirect_uris: 'https://app.example.test/cb' },
        { redirect_uris: ['http://example.com/cb'] },
        { redirect_uris: ['https://app.example.test/cb#frag'] },
        { redirect_uris: ['https://app.example.test/cb', 'https://app.example.test/cb#'] },
        { redirect_uris: ['https://user:pw@app.example.test/cb'] },
        { redirect_uris: ['https://*.evil.example/cb'] },
        { redirect_uris: ['https://app.example.test/*'] },
        { redirect_uris: ['not a uri'] },
        { redirect_uris: ['javascript:alert(1)'] },
        { redirect_uris: ['https://app.example.test/cb'], post_logout_redirect_uris: ['http://example.com/bye'] },
      ]) {
        expectError(await register(server, body), 400, 'invalid_redirect_uri');
      }
    });

    it('grant types other than authorization_code / refresh_token, or refresh_token alone → invalid_client_metadata', async () => {
      for (const grants of [['client_credentials'], ['authorization_code', 'client_credentials'], ['urn:ietf:params:oauth:grant-type:token-exchange'], ['implicit'], ['refresh_token'], []]) {
        expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], grant_types: grants }), 400, 'invalid_client_metadata');
      }
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], response_types: ['token'] }), 400, 'invalid_client_metadata');
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'tls_client_auth' }), 400, 'invalid_client_metadata');
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'private_key_jwt' }), 400, 'invalid_client_metadata');
    });

    it('a body that is not JSON, or not sent as JSON → invalid_client_metadata', async () => {
      expectError(await register(server, '{"redirect_uris": ['), 400, 'invalid_client_metadata');
      expectError(await register(server, ''), 400, 'invalid_client_metadata');
      expectError(await register(server, 'redirect_uris=https%3A%2F%2Fapp.example.test%2Fcb', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'invalid_client_metadata');
      expectError(await register(server, JSON.stringify({ redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' }), { 'content-type': 'text/plain' }), 400, 'invalid_client_metadata');
      // Invalid UTF-8 inside a JSON string.
      const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    });

    it('a JSON array, string, number or null body → 400 invalid_client_metadata', async () => {
      for (const body of ['[]', '[{"redirect_uris":["https://app.example.test/cb"]}]', '"x"', '42', 'null']) {
        expectError(await register(server, body), 400, 'invalid_client_metadata');
      }
    });

    it('a software_statement → invalid_software_statement', async () => {
      expectError(await register(server, { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none', software_statement: 'eyJhbGciOiJub25lIn0.eyJzb2Z0d2FyZV9pZCI6IngifQ.' }), 400, 'invalid_software_statement');
    });

    it('a body over max_body_bytes → 413 request_too_large, declared or streamed without a length', async () => {
      const max = server.config.main.http.max_body_bytes;
      const big = JSON.stringify({ redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none', client_name: 'x', padding: 'a'.repeat(max) });
      expectError(await register(server, big), 413, 'request_too_large');

      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
          controller.close();
        },
      });
      const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: string }).error).toBe('request_too_large');
    });

    it('GET (and other methods) on /register → 405 with Allow: POST', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await fetch(`${server.url}/register`, { method });
        expect(response.status).toBe(405);
        expect(response.headers.get('allow')).toBe('POST');
        expect(((await response.json()) as { error: string }).error).toBe('method_not_allowed');
      }
    });

    it('__proto__ and constructor keys do not pollute Object.prototype; the request is answered normally', async () => {
      const body = '{"redirect_uris":["https://proto.example.test/cb"],"token_endpoint_auth_method":"none","__proto__":{"polluted":"yes","token_endpoint_auth_method":"client_secret_basic"},"constructor":{"prototype":{"polluted2":"yes"}}}';
      const answer = await register(server, body);
      expect(answer.status, answer.text).toBe(201);
      expect(answer.body.token_endpoint_auth_method).toBe('none');
      expect(answer.body).not.toHaveProperty('client_secret');
      expect(answer.body).not.toHaveProperty('polluted');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      const record = await server.deps.store.dynamicClients.find(answer.body.client_id as string);
      expect(record?.client).toMatchObject({ token_endpoint_auth_method: 'none' });
      expect(Object.keys(record?.client ?? {})).not.toContain('__proto__');
      // This one was stored: let the afterEach check count it.
      before = { rows: before.rows + 1, audited: before.audited + 1 };

      // Refused as a whole when the real fields are missing, whatever __proto__ carries.
      expectError(await register(server, '{"__proto__":{"redirect_uris":["https://proto.example.test/cb"]}}'), 400, 'invalid_redirect_uri');
      expect(({} as Record<string, unknown>).redirect_uris).toBeUndefined();
    });
  });

});

describe('dynamic client registration with an initial access token', () => {
  let server: TestConsulate;
  const token = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': withRegistration([`initial_access_token_hash: "${hashSecret(token)}"`]) } });
  }, 60_000);
  afterAll(async () => server?.stop());

  const body = { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' };

  it('no token, a wrong one, or another scheme → 401 invalid_token with WWW-Authenticate Bearer; nothing stored', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${token}x` }, { authorization: `Bearer ${randomBytes(32).toString('base64url')}` }, { authorization: basicAuth('x', token) }, { authorization: 'Bearer' }, { authorization: `Bearer  ${token}` }]) {
      const answer = await register(server, body, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.body.error).toBe('invalid_token');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(answer.body.client_id).toBeUndefined();
    }
    // The token is checked before the body is read: even a bad body gets 401.
    const bad = await register(server, 'not json');
    expect(bad.status).toBe(401);
    expect(await stored(server)).toEqual({ rows: 0, audited: 0 });
  });

  it('the right token → 201', async () => {
    const answer = await register(server, body, { authorization: `Bearer ${token}` });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.client_id).toMatch(/^dyn_/);
    expect(await stored(server)).toEqual({ rows: 1, audited: 1 });
  });
});

describe('dynamic client registration with max_clients', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': withRegistration(['max_clients: 2']) } });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('the third registration gets 503 temporarily_unavailable and no client is added', async () => {
    const body = (n: number) => ({ redirect_uris: [`https://app${n}.example.test/cb`], token_endpoint_auth_method: 'none' });
    const first = await register(server, body(1));
    const second = await register(server, body(2));
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await register(server, body(3));
    expect(third.status).toBe(503);
    expect(third.body.error).toBe('temporarily_unavailable');
    expect(third.body.client_id).toBeUndefined();
    expect(third.body.client_secret).toBeUndefined();
    // Concurrent attempts cannot slip past the cap either.
    const burst = await Promise.all([4, 5, 6, 7].map((n) => register(server, { ...body(n), token_endpoint_auth_method: 'client_secret_post' })));
    expect(burst.map((a) => a.status)).toEqual([503, 503, 503, 503]);
    expect(await stored(server)).toEqual({ rows: 2, audited: 2 });
    // Two rows, and they are the two issued ids.
    for (const id of [first.body.client_id, second.body.client_id]) expect(await server.deps.store.dynamicClients.find(id as string)).toBeDefined();
  });
});
