// Slow and greedy clients at the socket: a body that trickles is cut at http.request_timeout_ms
// with a 408, and one address cannot hold more than http.max_connections_per_address connections,
// while the server keeps answering everyone else.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsulate, type TestConsulate } from './support/consulate.ts';

const mainYaml = (base: string) => `${base.trimEnd()}\nhttp:\n  request_timeout_ms: 1500\n  headers_timeout_ms: 1000\n  max_connections_per_address: 5\n`;

describe('HTTP limits at the socket', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    const { readFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const base = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');
    server = await startConsulate({ files: { 'consulate.yaml': mainYaml(base) } });
  });
  afterAll(async () => server?.stop());

  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    });
  /** Everything the server sends until it closes the connection, and how long that took. */
  const untilClosed = (socket: Socket) =>
    new Promise<{ text: string; ms: number }>((resolve) => {
      const started = Date.now();
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.once('close', () => resolve({ text, ms: Date.now() - started }));
    });

  it('a body sent a byte at a time is answered 408 and closed within the request timeout', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    socket.write(`POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ng`);
    const drip = setInterval(() => socket.writable && socket.write('r'), 300);
    const { text, ms } = await closed;
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(10_000);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('an address holding its connection limit gets no more, and the server answers once it lets go', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, open));
    const extra = await open();
    const { text } = await untilClosed(extra);
    expect(text).toBe('');
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
