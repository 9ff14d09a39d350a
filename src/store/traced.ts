// Spans from inside the store (a group commit, a PostgreSQL transaction) through @opentelemetry/api
// alone: the store imports no app code. A span is made only when the caller's span is recording,
// so without tracing (or for work outside a traced request, such as purges) the cost is one context
// lookup. Never an argument, a row or a statement's values in an attribute.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';

const tracer = () => trace.getTracer('consulate');

/** The caller's span, when it is being recorded: a batch written later names it as its parent or link. */
export function recordingCaller(): SpanContext | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext() : undefined;
}

/** A span for one batch: child of its first traced caller, linked to the others; undefined when none was traced. */
export function startBatchSpan(name: string, callers: readonly (SpanContext | undefined)[], attributes: Attributes): Span | undefined {
  const traced = callers.filter((c): c is SpanContext => c !== undefined);
  const [first, ...rest] = traced;
  if (!first) return undefined;
  return tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes, links: rest.map((context) => ({ context })) }, trace.setSpanContext(ROOT_CONTEXT, first));
}

/** Runs `work` in a child span of the caller's, when that one is recorded. */
export async function inStoreSpan<T>(name: string, attributes: Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return work(undefined);
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks `span` failed with the error's code (a SQLSTATE, SQLITE_BUSY) or class, never its message. */
export function failSpan(span: Span, error: unknown): void {
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  const name = error instanceof Error ? error.name : undefined;
  const type = typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : name && /^[A-Za-z0-9_]{1,64}$/.test(name) ? name : '_OTHER';
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR });
}
