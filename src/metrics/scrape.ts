// What is read when Prometheus scrapes rather than counted as it happens: approvals pending (and the
// ones that expired since the last scrape) with one query, the PostgreSQL pool, and how the config
// stands. Then the text exposition of this server's registry and the process metrics.
import { Registry } from 'prom-client';
import type { ConfigStatus } from '../reload.ts';
import type { ApprovalKind, Store } from '../store/ports.ts';
import type { Metrics } from './metrics.ts';
import { processRegistry } from './process.ts';

export type ScrapeSources = { store: Store; now: number; configStatus?: ConfigStatus | undefined };

const kinds: readonly ApprovalKind[] = ['ciba', 'device', 'exchange'];

/**
 * Samples the gauges, then renders. A database that cannot answer leaves the approval gauges as they
 * were (`onError` hears why) and the rest is still served: a scrape must not fail with the database.
 */
export async function scrapeMetrics(metrics: Metrics, sources: ScrapeSources, onError: (error: unknown) => void): Promise<string> {
  const m = metrics.instruments;
  sampleConfig(m, sources.configStatus);
  const pool = sources.store.poolStats?.();
  if (pool) {
    m.poolConnections.set({ state: 'open' }, pool.total);
    m.poolConnections.set({ state: 'idle' }, pool.idle);
    m.poolWaiting.set(pool.waiting);
  }
  // Each expiry is counted in exactly one window (after, now]; the window moves before the query
  // awaits, so two scrapes at once cannot count one twice. A failed query gives its window back.
  const after = metrics.expiredCountedUpTo;
  const now = Math.max(sources.now, after);
  metrics.expiredCountedUpTo = now;
  try {
    const counts = await sources.store.approvals.countByKind(now, after);
    for (const kind of kinds) {
      const row = counts.find((c) => c.kind === kind);
      m.approvalsPending.set({ kind }, row?.pending ?? 0);
      if (row?.expired) m.approvalsExpired.inc({ kind }, row.expired);
    }
  } catch (error) {
    if (metrics.expiredCountedUpTo === now) metrics.expiredCountedUpTo = after;
    onError(error);
  }
  return Registry.merge([metrics.registry, processRegistry()]).metrics();
}

function sampleConfig(m: Metrics['instruments'], status: ConfigStatus | undefined): void {
  if (!status) return;
  const last = status.lastReload;
  m.reloadSuccess.set(status.loadedAt);
  m.reloadAttempt.set(last?.at ?? 0);
  m.stale.set(last !== undefined && last.outcome !== 'applied' ? 1 : 0);
}

export const metricsContentType = Registry.PROMETHEUS_CONTENT_TYPE;
