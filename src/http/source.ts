// The source address of a request, for the rate limits: the socket's peer (on @hono/node-server),
// or, behind a proxy listed in http.trust_proxy, what X-Forwarded-For says (limits/source.ts).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Deps } from '../deps.ts';
import { resolveSource } from '../limits/source.ts';

export function sourceAddress(c: Context, deps: Deps): string | undefined {
  // Not served by node-server (app.request, app.fetch): no socket to read, and no exception to pay for.
  const env = c.env as { incoming?: unknown; server?: unknown } | undefined;
  let peer: string | undefined;
  if (env?.incoming || env?.server) {
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined;
    }
  }
  return resolveSource(peer, deps.trustedProxies.empty ? undefined : c.req.header('x-forwarded-for'), deps.trustedProxies);
}
