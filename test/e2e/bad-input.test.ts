// Malformed, forged, replayed and unauthorized requests: each gets the RFC's error and status,
// never a stack trace, and nothing is issued.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { clientKey, jwtClientYaml, type ClientKey } from './support/keys.ts';

const api = 'https://api.demo.example';
const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('bad input at the token endpoint', () => {
  let server: TestConsulate;
  let key: ClientKey;
  const basic = basicAuth('agent-basic', secrets['agent-basic']);
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    key = await clientKey('RS256');
    server = await startConsulate({ files: { 'clients/agent-jwt.yaml': jwtClientYaml('agent-jwt', { jwks: [key.jwk] }) } });
  });
  afterAll(async () => {
    // No secret, assertion or token ever reaches the logs.
    const logs = server.rawLogs();
    for (const value of [...Object.values(secrets), ...issuedTokens]) expect(logs).not.toContain(value);
    await server?.stop();
  });

  const token = (form: Record<string, string | string[]>, headers: Record<string, string> = { authorization: basic }) =>
    postForm(server, '/token', { grant_type: 'client_credentials', ...form }, headers);

  const assertion = (claims: Record<string, unknown> = {}, alg = 'RS256', signWith: unknown = key.privateKey, typ?: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg, kid: key.kid, ...(typ ? { typ } : {}) })
      .setIssuer((claims.iss as string) ?? 'agent-jwt')
      .setSubject((claims.sub as string) ?? 'agent-jwt')
      .setAudience((claims.aud as string | string[]) ?? server.issuer)
      .setIssuedAt(now)
      .setExpirationTime((claims.exp as number) ?? now + 60)
      .sign(signWith as Parameters<SignJWT['sign']>[0]);
  };
  const withAssertion = (jwt: string) => token({ client_assertion_type: assertionType, client_assertion: jwt }, {});

  const expectError = (response: Awaited<ReturnType<typeof token>>, status: number, error: string) => {
    expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
    expect(typeof response.body.error_description).toBe('string');
    expect(response.text).not.toMatch(/at .*\.ts:\d+|Error:/);
    expect(response.body).not.toHaveProperty('access_token');
  };

  describe('client authentication', () => {
    it('wrong secret and unknown client: the same 401 invalid_client with WWW-Authenticate', async () => {
      const wrong = await token({}, { authorization: basicAuth('agent-basic', 'wrong') });
      const unknown = await token({}, { authorization: basicAuth('nobody', 'wrong') });
      for (const response of [wrong, unknown]) {
        expectError(response, 401, 'invalid_client');
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      }
      expect(wrong.body).toEqual(unknown.body);
    });

    it('no client authentication at all', async () => {
      expectError(await token({}, {}), 401, 'invalid_client');
    });

    it('a client using another method than it registered', async () => {
      expectError(await token({ client_id: 'agent-basic', client_secret: secrets['agent-basic'] }, {}), 401, 'invalid_client');
    });

    it('two authentication methods at once is invalid_request', async () => {
      expectError(await token({ client_id: 'agent-basic', client_secret: secrets['agent-basic'] }), 400, 'invalid_request');
    });

    it('a valid assertion works once; its replay is refused', async () => {
      const jwt = await assertion();
      const first = await withAssertion(jwt);
      expect(first.status).toBe(200);
      issuedTokens.push(first.body.access_token as string);
      expectError(await withAssertion(jwt), 401, 'invalid_client');
    });

    it('assertions with wrong aud, expired, too long-lived, wrong iss/sub are refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      expectError(await withAssertion(await assertion({ aud: `${server.issuer}/token` })), 401, 'invalid_client');
      // rfc7523bis §4: the issuer as the sole audience, not one of several.
      expectError(await withAssertion(await assertion({ aud: [server.issuer, 'https://other.example'] })), 401, 'invalid_client');
      expect((await withAssertion(await assertion({ aud: [server.issuer] }))).status).toBe(200);
      expectError(await withAssertion(await assertion({ exp: now - 120 })), 401, 'invalid_client');
      expectError(await withAssertion(await assertion({ exp: now + 3600 })), 401, 'invalid_client');
      expectError(await withAssertion(await assertion({ iss: 'agent-basic' })), 401, 'invalid_client');
    });

    it('alg none and HS256 signed with the public key are refused', async () => {
      const now = Math.floor(Date.now() / 1000);
      const none = new UnsecuredJWT({ jti: randomUUID() }).setIssuer('agent-jwt').setSubject('agent-jwt').setAudience(server.issuer).setExpirationTime(now + 60).encode();
      expectError(await withAssertion(none), 401, 'invalid_client');
      const publicBytes = new TextEncoder().encode(JSON.stringify(key.jwk));
      expectError(await withAssertion(await assertion({}, 'HS256', publicBytes)), 401, 'invalid_client');
    });

    it('a JWT typed for another purpose (a request object, a Passport) is not a client assertion', async () => {
      expectError(await withAssertion(await assertion({}, 'RS256', key.privateKey, 'oauth-authz-req+jwt')), 401, 'invalid_client');
      expectError(await withAssertion(await assertion({}, 'RS256', key.privateKey, 'at+jwt')), 401, 'invalid_client');
      // Nor is an untyped request object that happens to carry sub and jti.
      expectError(await withAssertion(await assertion({ response_type: 'code', redirect_uri: 'https://app.example.test/callback' })), 401, 'invalid_client');
      const typed = await withAssertion(await assertion({}, 'RS256', key.privateKey, 'JWT'));
      expect(typed.status).toBe(200);
      issuedTokens.push(typed.body.access_token as string);
    });

    it('an assertion signed by another key is refused', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      expectError(await withAssertion(await assertion({}, 'RS256', privateKey)), 401, 'invalid_client');
    });

    it('an unsupported client_assertion_type is refused', async () => {
      const response = await token({ client_assertion_type: 'urn:example:other', client_assertion: await assertion() }, {});
      expectError(response, 401, 'invalid_client');
    });
  });

  describe('what is asked for', () => {
    it('unknown, unallowed, malformed or several resources: invalid_target', async () => {
      expectError(await token({ resource: 'https://unknown.example' }), 400, 'invalid_target');
      expectError(await token({ resource: 'not a uri' }), 400, 'invalid_target');
      expectError(await token({ resource: `${api}#frag` }), 400, 'invalid_target');
      expectError(await token({ resource: [api, 'https://reports.example'] }), 400, 'invalid_target');
      const post = await postForm(server, '/token', { grant_type: 'client_credentials', client_id: 'agent-post', client_secret: secrets['agent-post'], resource: 'https://reports.example' });
      expectError(post, 400, 'invalid_target');
    });

    it('scope widening: invalid_scope', async () => {
      expectError(await token({ resource: api, scope: 'read-data admin-action' }), 400, 'invalid_scope');
      expectError(await token({ resource: api, scope: 'reports.read' }), 400, 'invalid_scope');
      expectError(await token({ resource: api, scope: 'read-data  write-data' }), 400, 'invalid_scope');
    });

    it('invalid authorization details: invalid_authorization_details', async () => {
      for (const details of ['not json', '{"type":"tool"}', '[]', '[{"type":"payment","amount":1}]', '[{"type":"tool"}]', '[{"type":"tool","tool":"x","extra":1}]', '[{"type":"tool","tool":"x","actions":["delete"]}]']) {
        expectError(await token({ resource: api, authorization_details: details }), 400, 'invalid_authorization_details');
      }
    });

    it('missing or unsupported grant_type', async () => {
      expectError(await postForm(server, '/token', {}, { authorization: basic }), 400, 'invalid_request');
      expectError(await postForm(server, '/token', { grant_type: 'password' }, { authorization: basic }), 400, 'unsupported_grant_type');
    });

    it('a client not allowed the grant: unauthorized_client', async () => {
      expectError(await postForm(server, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('demo-api', secrets['demo-api']) }), 400, 'unauthorized_client');
    });

    it('refusals after authentication are recorded with their reason', async () => {
      await token({ resource: api, scope: 'admin-action' });
      const denied = (await server.deps.store.audit.list()).filter((r) => r.event === 'passport.denied' && r.details.error === 'invalid_scope');
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.at(-1)?.clientId).toBe('agent-basic');
    });
  });

  describe('malformed HTTP', () => {
    it('duplicated parameters: invalid_request', async () => {
      expectError(await postForm(server, '/token', 'grant_type=client_credentials&scope=read-data&scope=write-data', { authorization: basic }), 400, 'invalid_request');
    });

    it('wrong content type: invalid_request', async () => {
      const response = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"grant_type":"client_credentials"}' });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error?: string }).error).toBe('invalid_request');
    });

    it('wrong method: 405 with Allow', async () => {
      for (const path of ['/token', '/introspect', '/revoke']) {
        const response = await fetch(`${server.url}${path}`);
        expect(response.status).toBe(405);
        expect(response.headers.get('allow')).toBe('POST');
      }
      const jwks = await fetch(`${server.url}/jwks`, { method: 'POST' });
      expect(jwks.status).toBe(405);
    });

    it('oversized body: 413, with or without a Content-Length', async () => {
      const big = `grant_type=client_credentials&pad=${'a'.repeat(20_000)}`;
      expect((await postForm(server, '/token', big, { authorization: basic })).status).toBe(413);
      const streamed = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode('a'.repeat(8000)));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
    });

    it('invalid UTF-8 and broken percent-encoding are clear 400s', async () => {
      const response = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new Uint8Array([0x67, 0x3d, 0xff, 0xfe]) });
      expect(response.status).toBe(400);
      expect((await postForm(server, '/token', 'grant_type=client_credentials&scope=%E0%A4%A', { authorization: basic })).status).toBe(400);
    });

    it('an unknown path is a JSON 404', async () => {
      const response = await fetch(`${server.url}/nope`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error?: string }).error).toBe('not_found');
    });
  });
});

describe('bad input at introspection and revocation', () => {
  let server: TestConsulate;
  const rs = basicAuth('demo-api', secrets['demo-api']);
  beforeAll(async () => {
    server = await startConsulate();
  });
  afterAll(async () => server?.stop());

  const issue = async () => {
    const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    return response.body.access_token as string;
  };
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: rs })).body;

  it('the caller must authenticate', async () => {
    const response = await postForm(server, '/introspect', { token: await issue() });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    const revoke = await postForm(server, '/revoke', { token: await issue() });
    expect(revoke.status).toBe(401);
  });

  it('a missing token parameter is invalid_request', async () => {
    const response = await postForm(server, '/introspect', {}, { authorization: rs });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('tampered, malformed, alg-none and foreign tokens are inactive', async () => {
    const good = await issue();
    expect((await introspect(good)).active).toBe(true);
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'admin-action' })).toString('base64url');
    expect(await introspect(`${header}.${widened}.${signature}`)).toEqual({ active: false });
    expect(await introspect('garbage')).toEqual({ active: false });
    expect(await introspect(`${good}x`)).toEqual({ active: false });
    const none = new UnsecuredJWT(claims).encode();
    expect(await introspect(none)).toEqual({ active: false });
    // Same claims, same kid, signed by a key that is not ours.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = JSON.parse(Buffer.from(header, 'base64url').toString()).kid;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey);
    expect(await introspect(foreign)).toEqual({ active: false });
    expect(await exportJWK(publicKey)).toBeTruthy();
  });
});

describe('expiry and failures', () => {
  it('an expired Passport introspects inactive (fixed clock)', async () => {
    let now = Math.floor(Date.now() / 1000);
    const server = await startConsulate({ now: () => now });
    try {
      const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
      const token = response.body.access_token as string;
      const rs = { authorization: basicAuth('demo-api', secrets['demo-api']) };
      now += 299;
      expect((await postForm(server, '/introspect', { token }, rs)).body.active).toBe(true);
      now += 2;
      expect((await postForm(server, '/introspect', { token }, rs)).body).toEqual({ active: false });
    } finally {
      await server.stop();
    }
  });

  it('an internal failure is a fixed server_error; the cause is logged with the request id, nothing issued', async () => {
    const server = await startConsulate();
    try {
      await server.deps.store.close();
      const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
      const requestId = response.headers.get('x-request-id');
      const logged = server.logs.find((line) => line.msg === 'unhandled error');
      expect(logged?.req_id).toBe(requestId);
      expect(JSON.stringify(logged?.err)).toMatch(/database/i);
      expect(server.rawLogs()).not.toContain(secrets['agent-basic']);
    } finally {
      await server.stop();
    }
  });
});
