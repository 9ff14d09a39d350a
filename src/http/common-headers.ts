// The headers every answer carries: X-Content-Type-Options, and X-Request-Id (the caller's when it
// is a sane token, else a new UUID; it is also the request's id in the logs). On Node's server,
// @hono/node-server hands its ServerResponse to the app as c.env.outgoing: the headers are set on
// it and writeHead merges them into whatever the route answers. So a hot route can answer with a
// Response whose headers are a plain object (plainJson in respond.ts), which the adapter writes as
// is, instead of Hono and the adapter building and copying a Headers object per request. Without a
// ServerResponse (app.fetch in tests, another runtime) they go through Hono's c.header.
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's id (X-Request-Id), for the logs. */
    requestId: string;
  }
}

const requestIdHeader = 'X-Request-Id';
/** What hono/request-id accepts from a caller: up to 255 word characters, `-` or `=`. */
const callerRequestId = /^[\w\-=]{1,255}$/;

/** Sets the common headers for this request and returns its id. */
export function setCommonHeaders(c: Context): string {
  const offered = c.req.header(requestIdHeader);
  const requestId = offered !== undefined && callerRequestId.test(offered) ? offered : crypto.randomUUID();
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (isServerResponse(outgoing)) {
    outgoing.setHeader('X-Content-Type-Options', 'nosniff');
    outgoing.setHeader(requestIdHeader, requestId);
  } else {
    c.header('X-Content-Type-Options', 'nosniff');
    c.header(requestIdHeader, requestId);
  }
  return requestId;
}

const isServerResponse = (value: unknown): value is ServerResponse => typeof value === 'object' && value !== null && typeof (value as ServerResponse).setHeader === 'function' && !(value as ServerResponse).headersSent;
