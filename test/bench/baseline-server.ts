// Baseline server for the benchmark: a bare Hono route that answers POST /token with a fixed JSON
// body shaped and sized like a real token response (BENCH_BODY_BYTES), with no logic at all.
// It is served the same way src/main.ts serves Consulate (node:http + getRequestListener), on plain
// Node (compile.ts), like the peer.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { announce } from './child.ts';

const shape = { access_token: '', token_type: 'Bearer', expires_in: 300, scope: 'read-data' };
const targetBytes = Number(process.env.BENCH_BODY_BYTES ?? 900);
const padding = Math.max(1, targetBytes - Buffer.byteLength(JSON.stringify(shape)));
const body = { ...shape, access_token: 'x'.repeat(padding) };

const app = new Hono();
app.post('/token', (c) => c.json(body));

const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, getRequestListener(app.fetch));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announce(`http://127.0.0.1:${port}`, () => new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  }));
});
