// fetchClientMetadataDocument against real loopback HTTPS/HTTP servers: the happy path, and the
// server-side request forgery and resource attacks, each checking who got contacted.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientMetadataError,
  fetchClientMetadataDocument,
  type ClientMetadataErrorReason,
  type MetadataDocumentLimits,
} from '../../../src/clients/metadata-document/index.ts';
import { makeTestCertificate } from '../../e2e/support/tls.ts';

const tls = makeTestCertificate();
type Handler = (req: IncomingMessage, res: ServerResponse, selfUrl: string) => void;
type Served = { origin: string; connections: number; requests: IncomingMessage[]; server: Server };
const open: Served[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    s.server.closeAllConnections();
    await new Promise((done) => s.server.close(done));
  }
});

async function serve(handler: Handler, { secure = true, host = '127.0.0.1' } = {}): Promise<Served> {
  const server = secure ? createHttpsServer({ key: tls.key, cert: tls.cert }) : createHttpServer();
  const scheme = secure ? 'https' : 'http';
  const served: Served = { origin: '', connections: 0, requests: [], server };
  server.on('connection', () => served.connections++);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    served.requests.push(req);
    handler(req, res, `${scheme}://${req.headers.host}${req.url}`);
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  const { port } = server.address() as AddressInfo;
  served.origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  open.push(served);
  return served;
}

const document = (clientId: string, extra: Record<string, unknown> = {}) => ({
  client_id: clientId,
  client_name: 'Example MCP client',
  redirect_uris: ['http://127.0.0.1:3000/callback'],
  ...extra,
});

const json = (body: unknown, headers: Record<string, string> = {}): Handler => (_req, res, self) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(typeof body === 'function' ? body(self) : body));
};
const reflect = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => json((self: string) => document(self, extra), headers);

const limits: MetadataDocumentLimits = { maxBytes: 5000, timeoutMs: 2000, allowLoopbackHttp: true, ca: tls.cert, minCacheSeconds: 60, maxCacheSeconds: 3600 };
const strict: MetadataDocumentLimits = { ...limits, allowLoopbackHttp: false };

async function failure(promise: Promise<unknown>, reason: ClientMetadataErrorReason): Promise<ClientMetadataError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ClientMetadataError);
  expect((error as ClientMetadataError).reason).toBe(reason);
  return error as ClientMetadataError;
}

describe('fetching a client metadata document', () => {
  it('fetches and validates a document over https, with Accept: application/json', async () => {
    const s = await serve(reflect({ logo_uri: 'https://example.com/logo.png', software_id: 'dropped' }, { 'cache-control': 'public, max-age=600' }));
    const url = `${s.origin}/oauth/client.json`;
    const fetched = await fetchClientMetadataDocument(url, limits);
    expect(fetched).toEqual({
      document: {
        client_id: url,
        client_name: 'Example MCP client',
        logo_uri: 'https://example.com/logo.png',
        redirect_uris: ['http://127.0.0.1:3000/callback'],
        post_logout_redirect_uris: [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      cacheSeconds: 600,
    });
    expect(s.requests[0]?.headers.accept).toBe('application/json');
  });

  it.each([
    ['max-age=5', 60],
    ['max-age=99999999', 3600],
    ['public, max-age="120"', 120],
    ['no-store, max-age=600', 60],
    ['max-age=600, no-cache', 60],
    ['', 60],
  ])('Cache-Control %j gives %i seconds (clamped to [60, 3600])', async (cacheControl, seconds) => {
    const s = await serve(reflect({}, cacheControl ? { 'cache-control': cacheControl } : {}));
    expect((await fetchClientMetadataDocument(`${s.origin}/c`, limits)).cacheSeconds).toBe(seconds);
  });

  it('accepts http on loopback, a localhost name, [::1] and a *+json type when allowed', async () => {
    const plain = await serve(reflect({}, { 'content-type': 'application/vnd.example+json; charset=utf-8' }), { secure: false });
    expect((await fetchClientMetadataDocument(`${plain.origin}/c`, limits)).document.client_id).toBe(`${plain.origin}/c`);
    const s = await serve(reflect());
    const viaName = `https://localhost:${new URL(s.origin).port}/c`;
    expect((await fetchClientMetadataDocument(viaName, { ...limits, allowedHosts: ['LOCALHOST'] })).document.client_id).toBe(viaName);
    const v6 = await serve(reflect(), { host: '::1' });
    expect((await fetchClientMetadataDocument(`${v6.origin}/c`, { ...limits, allowedHosts: ['[::1]'] })).document.client_id).toBe(`${v6.origin}/c`);
  });
});

describe('attacks on the fetcher', () => {
  it('refuses a Content-Length above maxBytes', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write(' '.repeat(1000));
    });
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, limits), 'too_large');
  });

  it('cuts off an endless chunked body at maxBytes and closes the connection', async () => {
    let serverSawClose!: Promise<void>;
    const s = await serve((req, res) => {
      serverSawClose = new Promise((done) => req.socket.on('close', () => done()));
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, limits), 'too_large');
    await serverSawClose;
  });

  it('times out a server that trickles the body, promptly, and drops the connection', async () => {
    let serverSawClose!: Promise<void>;
    const s = await serve((req, res) => {
      serverSawClose = new Promise((done) => req.socket.on('close', () => done()));
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, { ...limits, timeoutMs: 300 }), 'timeout');
    expect(Date.now() - started).toBeLessThan(1000);
    await serverSawClose;
  });

  it('times out a server that never answers', async () => {
    const s = await serve(() => {});
    const started = Date.now();
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, { ...limits, timeoutMs: 300 }), 'timeout');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(s.requests).toHaveLength(1);
  });

  it.each([301, 302, 307, 308])('does not follow a %i redirect to another server', async (status) => {
    const target = await serve(reflect());
    const s = await serve((_req, res) => {
      res.writeHead(status, { location: `${target.origin}/c` });
      res.end();
    });
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, limits), 'redirect');
    expect(target.connections).toBe(0);
  });

  it.each([
    ['a trailing slash', (self: string) => `${self}/`],
    ['another case', (self: string) => self.replace('/client', '/Client')],
    ['another host spelling', (self: string) => self.replace('127.0.0.1', 'localhost')],
    ['no client_id', () => undefined],
  ])('refuses a document whose client_id differs from its URL: %s', async (_name, clientId) => {
    const s = await serve(json((self: string) => ({ ...document(self), client_id: clientId(self) })));
    await failure(fetchClientMetadataDocument(`${s.origin}/client.json`, limits), 'client_id_mismatch');
  });

  it.each([
    ['client_secret', { client_secret: 's3cret' }],
    ['client_secret_expires_at', { client_secret_expires_at: 0 }],
    ['client_secret_basic', { token_endpoint_auth_method: 'client_secret_basic' }],
    ['client_secret_post', { token_endpoint_auth_method: 'client_secret_post' }],
  ])('refuses a document with a shared secret: %s', async (_name, extra) => {
    const s = await serve(reflect(extra));
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, limits), 'invalid_document');
  });

  it('refuses non-JSON content types, non-200 statuses, broken JSON and truncated bodies', async () => {
    const html = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('{}'));
    await failure(fetchClientMetadataDocument(`${html.origin}/c`, limits), 'not_json');
    const missing = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{}'));
    await failure(fetchClientMetadataDocument(`${missing.origin}/c`, limits), 'http_status');
    const broken = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'));
    await failure(fetchClientMetadataDocument(`${broken.origin}/c`, limits), 'invalid_document');
    const cut = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' }).write('{"a":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await failure(fetchClientMetadataDocument(`${cut.origin}/c`, limits), 'network');
  });

  it('reports an untrusted certificate as a network error, never a raw Node error', async () => {
    const s = await serve(reflect());
    const error = await failure(fetchClientMetadataDocument(`${s.origin}/c`, { ...limits, ca: undefined }), 'network');
    expect(error.message).not.toMatch(/127\.0\.0\.1|at /);
  });

  it('contacts no loopback server when loopback is not allowed', async () => {
    const v4 = await serve(reflect());
    const v6 = await serve(reflect(), { host: '::1' });
    const port = new URL(v4.origin).port;
    await failure(fetchClientMetadataDocument(`${v4.origin}/c`, strict), 'private_address');
    await failure(fetchClientMetadataDocument(`https://localhost:${port}/c`, strict), 'private_address');
    await failure(fetchClientMetadataDocument(`${v6.origin}/c`, strict), 'private_address');
    // Mapped and NAT64 loopback are refused even when loopback itself is allowed.
    await failure(fetchClientMetadataDocument(`https://[::ffff:7f00:1]:${port}/x`, limits), 'private_address');
    await failure(fetchClientMetadataDocument(`https://[::ffff:7f00:1]:${port}/x`, strict), 'private_address');
    await failure(fetchClientMetadataDocument(`https://[64:ff9b::7f00:1]:${port}/x`, strict), 'private_address');
    // The dotted spelling is not the URL's normalised form, so it is not even a metadata document URL.
    await failure(fetchClientMetadataDocument(`https://[::ffff:127.0.0.1]:${port}/x`, strict), 'not_a_url');
    await failure(fetchClientMetadataDocument(`http://127.0.0.1:${port}/c`, strict), 'insecure_url');
    expect([v4.connections, v6.connections]).toEqual([0, 0]);
  });

  it.each(['https://10.0.0.1/x', 'https://169.254.169.254/latest', 'https://100.64.0.1/x', 'https://[fd00::1]/x', 'https://0.0.0.0/x'])(
    'refuses %s before connecting',
    async (url) => {
      const started = Date.now();
      await failure(fetchClientMetadataDocument(url, { ...strict, timeoutMs: 10_000 }), 'private_address');
      expect(Date.now() - started).toBeLessThan(500);
    },
  );

  it('refuses http for a non-loopback host, other schemes and non-URLs', async () => {
    await failure(fetchClientMetadataDocument('http://example.com/client.json', limits), 'insecure_url');
    await failure(fetchClientMetadataDocument('ftp://example.com/client.json', limits), 'not_a_url');
    await failure(fetchClientMetadataDocument('not a url', limits), 'not_a_url');
    await failure(fetchClientMetadataDocument('https://example.com/', limits), 'not_a_url');
    await failure(fetchClientMetadataDocument('https://example.com/a/../client.json', limits), 'not_a_url');
  });

  it('refuses a host outside allowedHosts without contacting it', async () => {
    const s = await serve(reflect());
    await failure(fetchClientMetadataDocument(`${s.origin}/c`, { ...limits, allowedHosts: ['example.com'] }), 'host_not_allowed');
    expect(s.connections).toBe(0);
    expect((await fetchClientMetadataDocument(`${s.origin}/c`, { ...limits, allowedHosts: ['127.0.0.1'] })).document.redirect_uris).toHaveLength(1);
  });
});
