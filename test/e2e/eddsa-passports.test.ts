// A resource may ask for EdDSA Passports (RFC 8037, Ed25519: cheaper to sign than ES256). Its
// Passports are EdDSA, every other resource's stay ES256; the Ed25519 key appears in the JWKS only
// once a resource asks for it (hot reload included), and resource servers verify it with jose and
// with the guard of src/sdk configured for EdDSA, while the default guard refuses it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPassportGuard } from '../../src/sdk/index.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';

const reports = 'https://reports.example';
const api = 'https://api.demo.example';
const reportsYaml = (signing: string) => `resource: ${reports}\nname: Reports\npassport_ttl_seconds: 120\n${signing}scopes:\n  reports.read: Read reports\n`;

describe('EdDSA Passports per resource', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate();
  });
  afterAll(async () => server?.stop());

  const passportFor = async (resource: string, scope: string) => {
    const answer = await postForm(server, '/token', { grant_type: 'client_credentials', resource, scope }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(answer.status).toBe(200);
    return answer.body.access_token as string;
  };
  const jwks = async () => ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kty: string; crv?: string; alg: string; kid: string }[] }).keys;

  it('is off until a resource asks: no Ed25519 key, ES256 Passports', async () => {
    expect((await jwks()).some((k) => k.kty === 'OKP')).toBe(false);
    expect(decodeProtectedHeader(await passportFor(reports, 'reports.read')).alg).toBe('ES256');
  });

  it('after a reload that asks for it, the resource gets EdDSA Passports that verify against the JWKS; others stay ES256', async () => {
    writeFileSync(join(server.configDir, 'resources/reports.yaml'), reportsYaml('signing_alg: EdDSA\n'));
    expect(await server.reload('test')).toBe(true);
    const eddsa = (await jwks()).find((k) => k.kty === 'OKP');
    expect(eddsa).toMatchObject({ crv: 'Ed25519', alg: 'EdDSA' });

    const token = await passportFor(reports, 'reports.read');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid: eddsa?.kid, typ: 'at+jwt' });
    const remote = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    const { payload } = await jwtVerify(token, remote, { issuer: server.issuer, audience: reports, typ: 'at+jwt', algorithms: ['EdDSA'] });
    expect(payload).toMatchObject({ client_id: 'agent-basic', scope: 'reports.read' });
    expect(decodeProtectedHeader(await passportFor(api, 'read-data')).alg).toBe('ES256');

    const introspected = await postForm(server, '/introspect', { token }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(introspected.body).toMatchObject({ active: true, aud: reports });
  });

  it('the guard accepts it when configured for EdDSA, and refuses it with its default algorithms', async () => {
    const token = await passportFor(reports, 'reports.read');
    const request = { method: 'GET', url: `${reports}/x`, headers: { authorization: `Bearer ${token}` } };
    const withEdDSA = createPassportGuard({ issuer: server.issuer, resource: reports, algorithms: ['EdDSA'], jwksUri: `${server.url}/jwks` });
    expect(await withEdDSA.verify(request)).toMatchObject({ ok: true, passport: { aud: reports } });
    const byDefault = createPassportGuard({ issuer: server.issuer, resource: reports, jwksUri: `${server.url}/jwks` });
    expect((await byDefault.verify(request)).ok).toBe(false);
  });

  it('a tampered EdDSA Passport introspects inactive', async () => {
    const token = await passportFor(reports, 'reports.read');
    const [h, p, s] = token.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'reports.read reports.write' })).toString('base64url');
    const answer = await postForm(server, '/introspect', { token: `${h}.${other}.${s}` }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(answer.body).toEqual({ active: false });
  });
});
