// One server span per request (added by app.ts only while tracing is on): named `METHOD route`
// after the route that answered, continuing the caller's W3C `traceparent`, with the HTTP semantic
// convention attributes. Never the URL path or query (paths carry approval ids, queries codes),
// headers, cookies or the client's address.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { tracer } from '../tracing/spans.ts';
import { answeredRoute } from './lazy-routes.ts';

const getter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export function traceRequests(): MiddlewareHandler {
  return async function traceRequest(c, next) {
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, getter);
    // Any other method is one value, not whatever a caller sent.
    const method = knownMethods.has(c.req.method) ? c.req.method : '_OTHER';
    const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.scheme': new URL(c.req.url).protocol.slice(0, -1) } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      // The route that answered (its pattern); a request no route took has none.
      const route = answeredRoute(c);
      if (route && !route.endsWith('*')) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      const status = c.res.status;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
  };
}
