// Process metrics (prom-client's default set: CPU, memory, event-loop lag, GC, handles) under their
// conventional names, process_* and nodejs_*, so the usual Node.js dashboards work unchanged. They
// describe the process, not one server, so one registry per process holds them (made on first use;
// not prom-client's global registry) and every server's scrape includes it.
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
