// The peer Consulate is compared with in `npm run bench`: node-oidc-provider 9 (a dev dependency),
// set up as the team's reference measurements describe it, so that figures compare with theirs:
// one confidential client (`bench`, client_secret_basic) allowed client credentials for scope
// api:read; resource indicators with ES256 JWT access tokens for `urn:api` (the default resource)
// and opaque ones for `urn:opaque`, which its introspection endpoint (/token/introspection) can
// then find. Default in-memory adapter, no request logging. Runs as plain JavaScript (compile.ts).
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce } from './child.ts';
import { peerClient, peerSecret } from './peer.ts';

// The parts of oidc-provider used here (it ships no types).
type Provider = { proxy: boolean; callback(): (req: IncomingMessage, res: ServerResponse) => void; on(event: string, listener: (...args: unknown[]) => void): void };
type ProviderModule = { default: new (issuer: string, configuration: Record<string, unknown>) => Provider };

/** oidc-provider's notices (unsupported runtime on Node 20, dev-only adapter, default TTLs) are noise here. */
const quiet = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider')) return;
  original(...args);
};
console.warn = quiet(console.warn);
console.info = quiet(console.info);

const signingKey = (type: 'rsa' | 'ec', alg: string, kid: string): JsonWebKey => {
  const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
};

// The issuer follows the port, so listen first and build the provider after.
const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 });
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const specifier: string = 'oidc-provider'; // non-literal: TypeScript looks for no types
const { default: Provider } = (await import(specifier)) as ProviderModule;
const provider = new Provider(url, {
  clients: [
    {
      client_id: peerClient,
      client_secret: peerSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
    },
  ],
  // RS256 for what the provider signs by default, ES256 for the access tokens.
  jwks: { keys: [signingKey('rsa', 'RS256', 'peer-rs256'), signingKey('ec', 'ES256', 'peer-es256')] },
  scopes: ['api:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:api',
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) =>
        resource === 'urn:opaque'
          ? { audience: 'urn:opaque', scope: 'api:read', accessTokenFormat: 'opaque', accessTokenTTL: 3600 }
          : { audience: 'urn:api', scope: 'api:read', accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } },
    },
  },
});
provider.proxy = false;
provider.on('server_error', (_ctx: unknown, error: unknown) => console.error('peer server_error', error));
server.on('request', provider.callback());

announce(url, () =>
  new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  }),
);
