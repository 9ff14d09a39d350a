// Requests to an upstream IdP as client spans named by what they are for (upstream.discovery,
// upstream.token, upstream.jwks, upstream.userinfo, upstream.introspection) with the upstream's id,
// and the W3C `traceparent` sent along: openid-client's through its customFetch, ours through
// upstream-fetch.ts. Tracing off: the request goes out exactly as before.
import type * as client from 'openid-client';
import { sendTraced } from '../tracing/outgoing.ts';

export type UpstreamCall = 'discovery' | 'token' | 'jwks' | 'userinfo' | 'introspection' | 'request';

/** What a request to `url` is for, from the upstream's metadata (when discovered). */
export function upstreamCallOf(url: string, metadata: Partial<client.ServerMetadata> | undefined): UpstreamCall {
  const where = URL.parse(url);
  if (!where) return 'request';
  if (/\/\.well-known\/(openid-configuration|oauth-authorization-server)$/.test(where.pathname)) return 'discovery';
  const same = (endpoint: string | undefined) => endpoint !== undefined && URL.parse(endpoint)?.href === where.href;
  if (same(metadata?.token_endpoint)) return 'token';
  if (same(metadata?.jwks_uri)) return 'jwks';
  if (same(metadata?.userinfo_endpoint)) return 'userinfo';
  if (same(metadata?.introspection_endpoint)) return 'introspection';
  return 'request';
}

/** openid-client's customFetch for one upstream; `send` is the fetch underneath (default: fetch). */
export function tracedUpstreamFetch(upstreamId: string, metadata: () => Partial<client.ServerMetadata> | undefined, send: client.CustomFetch = (url, options) => fetch(url, options)): client.CustomFetch {
  return (url, options) =>
    sendTraced(`upstream.${upstreamCallOf(url, metadata())}`, { method: options.method, url, headers: options.headers, attributes: { 'consulate.upstream': upstreamId } }, (headers) =>
      send(url, { ...options, headers }),
    );
}
