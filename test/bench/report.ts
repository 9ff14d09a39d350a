// Benchmark figures: latency percentiles from raw samples, ratios against the baseline,
// a plain-text table for stdout and the JSON written to BENCH_JSON.
import { writeFileSync } from 'node:fs';

export type Measurement = { target: string; requests: number; seconds: number; latenciesMs: number[] };

export type Row = {
  target: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** requests/s of this target ÷ requests/s of the baseline. */
  throughputVsBaseline: number;
  /** p50 latency of this target ÷ p50 latency of the baseline. */
  p50VsBaseline: number;
  /** The same two ratios against a reference target of the same run (client credentials), when named. */
  throughputVsReference?: number;
  p50VsReference?: number;
};

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** The first measurement is the baseline; `reference` names a second target to compare with. */
export function toRows(measurements: Measurement[], reference?: string): Row[] {
  const stats = measurements.map((m) => {
    const sorted = [...m.latenciesMs].sort((a, b) => a - b);
    return { target: m.target, requests: m.requests, requestsPerSecond: m.requests / m.seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  });
  const base = stats[0];
  if (!base) return [];
  const ref = stats.find((s) => s.target === reference);
  return stats.map((s) => ({
    ...s,
    throughputVsBaseline: s.requestsPerSecond / base.requestsPerSecond,
    p50VsBaseline: s.p50Ms / base.p50Ms,
    ...(ref && s !== base ? { throughputVsReference: s.requestsPerSecond / ref.requestsPerSecond, p50VsReference: s.p50Ms / ref.p50Ms } : {}),
  }));
}

export function formatTable(rows: Row[], referenceLabel = 'client_credentials'): string {
  const header = ['target', 'requests/s', 'p50 ms', 'p99 ms', 'req/s vs baseline', 'p50 vs baseline', `req/s vs ${referenceLabel}`, `p50 vs ${referenceLabel}`];
  const ratio = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)}x`);
  const cells = rows.map((r) => [
    r.target,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    ratio(r.throughputVsBaseline),
    ratio(r.p50VsBaseline),
    ratio(r.throughputVsReference),
    ratio(r.p50VsReference),
  ]);
  // Without a reference target, only the baseline columns.
  if (!rows.some((r) => r.throughputVsReference !== undefined)) {
    header.splice(6);
    for (const c of cells) c.splice(6);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function writeJson(path: string, settings: Record<string, unknown>, rows: Row[]): void {
  writeFileSync(path, `${JSON.stringify({ settings, results: rows }, null, 2)}\n`);
}
