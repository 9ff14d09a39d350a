// Request objects (RFC 9101): signature, claims and the parameters they become, with real keys.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRequestObject, requestObjectMaxLifetimeSeconds, type RequestObjectDeps } from '../../../src/authorize/request-object.ts';
import { createClientKeySets } from '../../../src/clients/assertion.ts';
import { clientSchema, type ClientConfig } from '../../../src/config/schema.ts';
import type { OAuthError } from '../../../src/oauth/errors.ts';

const issuer = 'https://consulate.example';
const now = 1_750_000_000;
const deps: RequestObjectDeps = {
  issuer,
  now: () => now,
  clientKeySets: createClientKeySets(1000),
  config: { main: { client_assertions: { max_lifetime_seconds: 300, clock_skew_seconds: 30 } } },
};

let key: CryptoKey;
let otherKey: CryptoKey;
let client: ClientConfig;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  client = clientSchema.parse({
    client_id: 'jar-app',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] },
    grant_types: ['authorization_code'],
    redirect_uris: ['https://jar.example/cb'],
  });
});

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  iss: 'jar-app',
  aud: issuer,
  exp: now + 300,
  iat: now,
  client_id: 'jar-app',
  response_type: 'code',
  redirect_uri: 'https://jar.example/cb',
  scope: 'openid read-data',
  ...extra,
});
const sign = (payload: JWTPayload, options: { signer?: CryptoKey; typ?: string | null; alg?: string } = {}) => {
  const header: Record<string, string> = { alg: options.alg ?? 'ES256', kid: 'k1' };
  if (options.typ !== null) header.typ = options.typ ?? 'oauth-authz-req+jwt';
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(options.signer ?? key);
};
const refusal = async (jwt: string): Promise<OAuthError> => {
  const error = await readRequestObject(deps, client, jwt).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: 'invalid_request_object', status: 400 });
  return error as OAuthError;
};

describe('readRequestObject', () => {
  it('a valid request object becomes the parameters; JWT claims are not parameters', async () => {
    const params = await readRequestObject(
      deps,
      client,
      await sign(claims({ resource: ['https://api.demo.example', 'https://reports.example'], max_age: 600, claims: { id_token: { email: null } }, jti: 'x' })),
    );
    expect(params.get('response_type')).toBe('code');
    expect(params.get('redirect_uri')).toBe('https://jar.example/cb');
    expect(params.all('resource')).toEqual(['https://api.demo.example', 'https://reports.example']);
    expect(params.get('max_age')).toBe('600');
    expect(JSON.parse(params.get('claims') as string)).toEqual({ id_token: { email: null } });
    for (const name of ['iss', 'aud', 'exp', 'iat', 'jti']) expect(params.get(name)).toBeUndefined();
  });

  it('authorization_details (an array in the JWT) becomes its JSON string', async () => {
    const details = [{ type: 'tool', tool: 'search', actions: ['call'] }];
    const params = await readRequestObject(deps, client, await sign(claims({ authorization_details: details })));
    expect(JSON.parse(params.get('authorization_details') as string)).toEqual(details);
  });

  it('typ may be absent or JWT (OpenID Connect clients); another explicit type is refused', async () => {
    await expect(readRequestObject(deps, client, await sign(claims(), { typ: null }))).resolves.toBeDefined();
    await expect(readRequestObject(deps, client, await sign(claims(), { typ: 'JWT' }))).resolves.toBeDefined();
    expect((await refusal(await sign(claims(), { typ: 'at+jwt' }))).description).toMatch(/typ/);
  });

  it('wrong iss, wrong aud, missing exp and expired are refused', async () => {
    expect((await refusal(await sign(claims({ iss: 'someone-else' })))).description).toMatch(/iss/);
    expect((await refusal(await sign(claims({ aud: 'https://other.example' })))).description).toMatch(/aud/);
    const { exp: _omit, ...noExp } = claims();
    expect((await refusal(await sign(noExp))).description).toMatch(/exp claim is missing/);
    expect((await refusal(await sign(claims({ exp: now - 60 })))).description).toMatch(/expired/);
  });

  it('exp more than an hour ahead, nbf in the future and iat in the future are refused', async () => {
    expect((await refusal(await sign(claims({ exp: now + requestObjectMaxLifetimeSeconds + 60 })))).description).toMatch(/too far/);
    expect((await refusal(await sign(claims({ nbf: now + 120 })))).description).toMatch(/nbf/);
    expect((await refusal(await sign(claims({ iat: now + 120 })))).description).toMatch(/iat/);
    // Within the clock skew is fine.
    await expect(readRequestObject(deps, client, await sign(claims({ nbf: now + 10, iat: now + 10 })))).resolves.toBeDefined();
  });

  it('the fapi2 profile (FAPI 2.0 Message Signing) wants nbf, at most 60 minutes old, and exp at most 60 minutes after it', async () => {
    const strict: ClientConfig = { ...client, request_object_profile: 'fapi2' };
    const refused = async (payload: JWTPayload) => {
      const error = await readRequestObject(deps, strict, await sign(payload)).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_request_object', status: 400 });
      return (error as OAuthError).description;
    };
    expect(await refused(claims())).toMatch(/nbf is required/);
    expect(await refused(claims({ nbf: now - 3600 - 60, exp: now + 60 }))).toMatch(/nbf is too old/);
    expect(await refused(claims({ nbf: now - 10, exp: now - 10 + 3600 + 1 }))).toMatch(/more than 60 minutes after nbf/);
    await expect(readRequestObject(deps, strict, await sign(claims({ nbf: now - 60 })))).resolves.toBeDefined();
    // The standard profile still accepts a request object without nbf.
    await expect(readRequestObject(deps, client, await sign(claims()))).resolves.toBeDefined();
  });

  it('HS256 and alg none are refused, and so is a key the client did not register', async () => {
    const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a-shared-secret-of-enough-length-0123456789'));
    expect((await refusal(hs)).description).toMatch(/asymmetric/);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect((await refusal(`${b64({ alg: 'none' })}.${b64(claims())}.`)).description).toMatch(/asymmetric/);
    const wrongKey = await refusal(await sign(claims(), { signer: otherKey }));
    expect(wrongKey.description).toMatch(/signature/);
    expect(wrongKey.description).not.toMatch(/"x"|"y"|kty/);
  });

  it('a tampered payload is refused', async () => {
    const [h, , s] = (await sign(claims())).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ redirect_uri: 'https://evil.example/cb' }))).toString('base64url');
    expect((await refusal(`${h}.${forged}.${s}`)).description).toMatch(/signature/);
  });

  it('nested request or request_uri, a different client_id and unsupported values are refused', async () => {
    expect((await refusal(await sign(claims({ request_uri: 'urn:ietf:params:oauth:request_uri:abc' })))).description).toMatch(/request_uri/);
    expect((await refusal(await sign(claims({ request: 'x.y.z' })))).description).toMatch(/request/);
    expect((await refusal(await sign(claims({ client_id: 'other-app' })))).description).toMatch(/client_id/);
    expect((await refusal(await sign(claims({ scope: ['openid'] })))).description).toMatch(/scope/);
    expect((await refusal(await sign(claims({ prompt: true })))).description).toMatch(/prompt/);
    expect(await refusal('not-a-jwt')).toBeDefined();
    expect((await refusal('a.b.c.d.e')).description).toMatch(/encrypted/);
  });

  it('only the request object counts: the outer parameters are not part of the result', async () => {
    // The caller passes only the JWT; client_id is the one the caller authenticated or looked up.
    const params = await readRequestObject(deps, client, await sign(claims({ client_id: undefined, state: 'inner' })));
    expect(params.get('state')).toBe('inner');
    expect(params.get('client_id')).toBe('jar-app');
    expect(params.names().sort()).toEqual(['client_id', 'redirect_uri', 'response_type', 'scope', 'state']);
  });

  it('a __proto__ claim is harmless', async () => {
    // JSON.parse makes "__proto__" an own property; it must not pollute or become a parameter.
    const payload = `{"__proto__":{"polluted":"yes"},${JSON.stringify(claims()).slice(1)}`;
    const jwt = await new SignJWT(JSON.parse(payload) as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key);
    const params = await readRequestObject(deps, client, jwt);
    expect(params.get('__proto__')).toBeUndefined();
    expect(params.names()).not.toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(params.get('polluted')).toBeUndefined();
  });

  it('a client without registered keys cannot use request objects', async () => {
    const secretClient = clientSchema.parse({ client_id: 'jar-app', token_endpoint_auth_method: 'client_secret_basic', secret_hash: 'sha256:x' });
    const error = await readRequestObject(deps, secretClient, await sign(claims())).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_request_object', description: expect.stringMatching(/no registered keys/) });
  });
});
