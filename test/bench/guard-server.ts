// Resource server for the guard benchmark: one Hono app with the same JSON route twice, bare
// (`/open`) and behind the Passport guard of src/sdk/ (`/guarded`, Bearer or DPoP). It signs its
// own Passports with a key of its own and serves that key as the JWKS the guard reads (fetched
// once, then cached), so the measurement is the guard's work alone: JWT verification, claims,
// scopes, and for DPoP the proof (signature, htm/htu, ath, jti replay cache).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createPassportGuard, passportGuard, type PassportEnv } from '../../src/sdk/index.ts';
import { announce, answer } from './child.ts';

const issuer = 'https://consulate.bench.example';
const resource = 'https://api.bench.example';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
const body = { resource, items: [{ id: 1, text: 'hello' }] };

const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const guard = createPassportGuard({ issuer, resource, jwksUri: `${url}/jwks` });
const app = new Hono<PassportEnv>();
app.get('/jwks', (c) => c.json({ keys: [jwk] }));
app.get('/open', (c) => c.json(body));
app.get('/guarded', passportGuard(guard, { publicUrl: url, scopes: ['read-data'] }), (c) => c.json({ ...body, sub: c.get('passport').sub }));
server.on('request', getRequestListener(app.fetch));

/** A Passport as Consulate would mint it for this resource; `jkt` binds it (DPoP). */
answer(async (request) => {
  const { jkt } = request as { jkt?: string };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ client_id: 'bench-agent', azp: 'bench-agent', scope: 'read-data', jti: randomUUID(), ...(jkt ? { cnf: { jkt } } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject('person-bench')
    .setAudience(resource)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  return { token };
});
announce(url, () => new Promise<void>((done) => {
  server.close(() => done());
  server.closeAllConnections();
}));
