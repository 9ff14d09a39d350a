// Outgoing HTTP (upstream IdPs, webhooks) as client spans, with the W3C `traceparent` (and
// `tracestate`) of the span added to the request's headers so the receiver joins the trace.
// Attributes: method, the receiver's host and port, the status, and what the caller names (an
// upstream id, an event). Never the URL's path or query (a webhook URL may hold its own secret),
// a header or a body.
import { context, propagation, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { inSpan, SpanKind, tracingEnabled } from './spans.ts';

export type OutgoingCall = { method: string; url: string | URL; headers: Record<string, string>; attributes?: Attributes };

/** Sends through `send` with the headers to use; when tracing is off, exactly `call.headers`. */
export function sendTraced(name: string, call: OutgoingCall, send: (headers: Record<string, string>) => Promise<Response>): Promise<Response> {
  if (!tracingEnabled()) return send(call.headers);
  const url = new URL(call.url);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const method = call.method.toUpperCase();
  return inSpan(
    name,
    async (span) => {
      const headers = { ...call.headers };
      propagation.inject(context.active(), headers);
      const response = await send(headers);
      span?.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) {
        span?.setAttribute('error.type', String(response.status));
        span?.setStatus({ code: SpanStatusCode.ERROR });
      }
      return response;
    },
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'server.address': url.hostname, 'server.port': port, ...call.attributes } },
  );
}

