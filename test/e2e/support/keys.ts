// Client key pairs for private_key_jwt tests, and a loopback JWKS server for jwks_uri clients.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export type ClientKey = { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; kid: string };

export async function clientKey(alg: 'ES256' | 'RS256' | 'EdDSA' = 'ES256', kid = `${alg}-key`): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicKey, jwk, kid };
}

export async function serveJwks(keys: JWK[]): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const jwtClientYaml = (clientId: string, keys: { jwks?: JWK[]; jwksUri?: string }): string =>
  [
    `client_id: ${clientId}`,
    'token_endpoint_auth_method: private_key_jwt',
    keys.jwks ? `jwks: ${JSON.stringify({ keys: keys.jwks })}` : `jwks_uri: ${keys.jwksUri}`,
    'resources:',
    '  https://api.demo.example:',
    '    scopes: [read-data]',
    '',
  ].join('\n');
