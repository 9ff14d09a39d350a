// A span per store call, `store.<port>.<method>` (e.g. store.audit.append), wrapped once around the
// Store the server uses while tracing is on, and made only inside a recorded span (a request):
// background work (key reloads) makes no root spans. Attributes: the database system and the
// method; never an argument or a result (ids, subjects, claims). Group commits and PostgreSQL
// transactions add their own child spans from inside the store (store/traced.ts).
import { trace } from '@opentelemetry/api';
import type { Store } from '../store/ports.ts';
import { inSpan, SpanKind, tracingEnabled } from './spans.ts';

export type DatabaseSystem = 'sqlite' | 'postgresql';

export function traceStore(store: Store, system: DatabaseSystem): Store {
  if (!tracingEnabled()) return store;
  const traced: Record<string, unknown> = { ...store };
  for (const [port, methods] of Object.entries(store)) {
    if (methods && typeof methods === 'object') traced[port] = tracePort(port, methods as Record<string, unknown>, system);
  }
  return traced as Store;
}

function tracePort(port: string, methods: Record<string, unknown>, system: DatabaseSystem): Record<string, unknown> {
  const traced: Record<string, unknown> = {};
  for (const [method, fn] of Object.entries(methods)) {
    if (typeof fn !== 'function') {
      traced[method] = fn;
      continue;
    }
    const name = `store.${port}.${method}`;
    const options = { kind: SpanKind.CLIENT, attributes: { 'db.system.name': system, 'db.operation.name': `${port}.${method}` } };
    const call = fn as (...a: unknown[]) => unknown;
    traced[method] = (...args: unknown[]) => (trace.getActiveSpan()?.isRecording() ? inSpan(name, async () => call.apply(methods, args), options) : call.apply(methods, args));
  }
  return traced;
}
