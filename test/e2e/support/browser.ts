// A minimal cookie-keeping HTTP client for driving Consulate's pages like a browser would,
// without following redirects (tests look at each hop).
import { createServer } from 'node:net';

export function cookieJar() {
  const cookies = new Map<string, string>();
  return {
    cookies,
    async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
      const headers = new Headers(init.headers);
      // As a browser does for a form it submits: the page's origin (here, the target's).
      if ((init.method ?? 'GET').toUpperCase() === 'POST' && !headers.has('origin')) headers.set('origin', new URL(url).origin);
      if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      const response = await fetch(url, { ...init, headers, redirect: 'manual' });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair?.indexOf('=') ?? -1;
        if (!pair || eq < 0) continue;
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (!value || /max-age=0/i.test(line)) cookies.delete(name);
        else cookies.set(name, value);
      }
      return response;
    },
  };
}

/** A port free right now on 127.0.0.1, for a server whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
