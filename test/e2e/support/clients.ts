// Real OAuth clients for e2e tests: openid-client configurations against a running Consulate,
// and raw form posts for the malformed requests no real client would send.
import * as client from 'openid-client';
import type { TestConsulate } from './consulate.ts';

export async function discover(server: TestConsulate, clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

export function basicAuth(id: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export async function postForm(
  server: TestConsulate,
  path: string,
  form: Record<string, string | string[]> | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  let body: string;
  if (typeof form === 'string') body = form;
  else {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) params.append(name, v);
    body = params.toString();
  }
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return answerOf(response);
}

export type Answer = { status: number; headers: Headers; body: Record<string, unknown>; text: string };

/** A response read once: status, headers, the JSON body (or {}) and the raw text. */
export async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: the test looks at text */
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A clock the test moves; starts at the real time so CLI-written keys line up. */
export function testClock(start = Math.floor(Date.now() / 1000)) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds;
    },
    set(value: number) {
      now = value;
    },
  };
}
