// Spans of Consulate's own work, through @opentelemetry/api only (a no-op without a registered
// tracer provider). `enabled` is decided once at start (start.ts): while it is false every helper
// here calls straight through, so an untraced server allocates no span, context or attribute.
// Must not put a token, secret, assertion, code, cookie, subject identifier or personal data into a
// span name or attribute: callers pass only grant types, client ids, resources, upstream ids,
// routes, statuses, outcomes and error codes (docs/operators/tracing.md).
import { ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

// Taken again at start: a tracer from before a provider was (re)registered would stay a no-op.
let current = trace.getTracer('consulate');
let enabled = false;

/** Consulate's tracer (a no-op until a provider is registered). */
export const tracer = () => current;

/** Whether spans are recorded: a tracer provider other than the API's no-op one is registered. */
export const tracingEnabled = (): boolean => enabled;

/** Looks again at the registered provider (at start, after the SDK or an embedder registered one). */
export function refreshTracingEnabled(): boolean {
  // A fresh proxy's delegate is the API's no-op provider; the global proxy's is the same one until a provider is registered.
  const noop = new ProxyTracerProvider().getDelegate();
  enabled = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate?.() !== noop;
  current = trace.getTracer('consulate');
  return enabled;
}

export type SpanOptions = { kind?: SpanKind; attributes?: Attributes };

/** Runs `work` in a child span of the active one; `work` gets the span (undefined when tracing is off). */
export function inSpan<T>(name: string, work: (span: Span | undefined) => Promise<T>, options?: SpanOptions): Promise<T> {
  if (!enabled) return work(undefined);
  return current.startActiveSpan(name, options ?? {}, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `inSpan` for synchronous work (the pure policy checks). */
export function inSpanSync<T>(name: string, work: (span: Span | undefined) => T, options?: SpanOptions): T {
  if (!enabled) return work(undefined);
  return current.startActiveSpan(name, options ?? {}, (span) => {
    try {
      return work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The span of the request being served, to name its outcome (undefined when tracing is off). */
export const activeSpan = (): Span | undefined => (enabled ? trace.getActiveSpan() : undefined);

/**
 * An error's kind for `error.type`: an OAuth error code, an upstream error kind, a SQLSTATE or a
 * class name, never its message (messages may quote input).
 */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    for (const field of ['code', 'kind'] as const) {
      const value = (error as Record<string, unknown>)[field];
      if (typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) return value;
    }
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(name)) return name;
  }
  return '_OTHER';
}

export function markFailed(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

export { SpanKind };
