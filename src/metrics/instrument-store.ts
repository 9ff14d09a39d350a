// Times every call of every store port (consulate_db_call_duration_seconds{call="port.method"}) by
// wrapping the port objects once at start: the store itself knows nothing of metrics. The labelled
// observer is bound per method here, so a call costs two clock reads and one observation.
import type { Store } from '../store/ports.ts';
import type { Metrics } from './metrics.ts';

type Method = (...args: unknown[]) => unknown;

export function instrumentStore(store: Store, metrics: Metrics): Store {
  const wrapped: Record<string, unknown> = { ...store };
  for (const [portName, port] of Object.entries(store)) {
    if (port === null || typeof port !== 'object') continue;
    const timedPort: Record<string, unknown> = {};
    for (const [methodName, method] of Object.entries(port as Record<string, unknown>)) {
      timedPort[methodName] = typeof method === 'function' ? timed(method as Method, port, metrics.dbCall(`${portName}.${methodName}`)) : method;
    }
    wrapped[portName] = timedPort;
  }
  return wrapped as Store;
}

function timed(method: Method, self: unknown, observe: (seconds: number) => void): Method {
  return (...args) => {
    const started = performance.now();
    const result = method.apply(self, args);
    if (!(result instanceof Promise)) {
      observe((performance.now() - started) / 1000);
      return result;
    }
    // then(ok, failed), not finally(): one promise and no extra turn (finally() costs three).
    return result.then(
      (value: unknown) => {
        observe((performance.now() - started) / 1000);
        return value;
      },
      (error: unknown) => {
        observe((performance.now() - started) / 1000);
        throw error;
      },
    );
  };
}
