// The source address of a request, for the rate limits: the socket's peer (on @hono/node-server),
// or, behind a proxy listed in http.trust_proxy, what X-Forwarded-For says (limits/source.ts).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Deps } from '../deps.ts';
import { resolveSource } from '../limits/source.ts';

export function sourceAddress(c: Context, deps: Deps): string | undefined {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    // Not served by node-server (app.request in a unit test): no socket to read.
    peer = undefined;
  }
  return resolveSource(peer, deps.trustedProxies.empty ? undefined : c.req.header('x-forwarded-for'), deps.trustedProxies);
}
