// A loopback HTTPS server publishing Client ID Metadata Documents by path, counting fetches.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export type DocumentHost = Awaited<ReturnType<typeof startDocumentHost>>;

export async function startDocumentHost(cert: { key: string; cert: string }, cacheControl = 'max-age=600') {
  const documents = new Map<string, unknown>();
  const hits: string[] = [];
  const server: Server = createServer(cert, (req, res) => {
    hits.push(req.url ?? '');
    const document = documents.get(req.url ?? '');
    if (document === undefined) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl }).end(JSON.stringify(document));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, documents, hits, close: () => new Promise<void>((done) => server.close(() => done())) };
}
