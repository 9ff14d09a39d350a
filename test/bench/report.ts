// Benchmark figures. run.ts: per target, the median of its rounds for Consulate and for the peer
// (requests/s, p50/p95/p99), the ratio of the medians to the peer and to the bare-Hono baseline,
// and the server's memory; as a plain-text table and as the JSON written to BENCH_JSON.
// guard.ts: latency percentiles from raw samples and ratios against its first target (toRows).
import { writeFileSync } from 'node:fs';
import type { Memory } from './spawn.ts';

export type Round = {
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
  /** CPU the server side spent per request (bench:postgres: Consulate nodes and PostgreSQL), when measured. */
  cpuUsPerRequest?: number;
};
/** One server's rounds of one target, and their medians. */
export type Side = { server: string; rounds: Round[]; rps: number; p50Ms: number; p95Ms: number; p99Ms: number; cpuUsPerRequest?: number; memory?: Memory | undefined };
export type Comparison = {
  target: string;
  consulate: Side;
  /** What the peer was asked for the same work, when it has such an endpoint. */
  peer?: Side & { target: string };
  /** Median requests/s of Consulate ÷ median requests/s of the peer. */
  vsPeer?: number;
  /** The peer's median CPU per request ÷ Consulate's: how many requests Consulate serves for the CPU of one of the peer's. */
  cpuVsPeer?: number;
  /** Median requests/s ÷ the baseline's median requests/s (when the run has a baseline). */
  vsBaseline?: number;
  peerVsBaseline?: number;
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function side(server: string, rounds: Round[], memory?: Memory): Side {
  const of = (key: 'rps' | 'p50Ms' | 'p95Ms' | 'p99Ms') => median(rounds.map((r) => r[key]));
  const cpu = rounds.flatMap((r) => (r.cpuUsPerRequest === undefined ? [] : [r.cpuUsPerRequest]));
  return { server, rounds, rps: of('rps'), p50Ms: of('p50Ms'), p95Ms: of('p95Ms'), p99Ms: of('p99Ms'), ...(cpu.length ? { cpuUsPerRequest: median(cpu) } : {}), memory };
}

export function compare(target: string, consulate: Side, peer: (Side & { target: string }) | undefined, baselineRps: number | undefined): Comparison {
  return {
    target,
    consulate,
    ...(peer ? { peer, vsPeer: consulate.rps / peer.rps } : {}),
    ...(peer?.cpuUsPerRequest && consulate.cpuUsPerRequest ? { cpuVsPeer: peer.cpuUsPerRequest / consulate.cpuUsPerRequest } : {}),
    ...(baselineRps ? { vsBaseline: consulate.rps / baselineRps, ...(peer ? { peerVsBaseline: peer.rps / baselineRps } : {}) } : {}),
  };
}

/**
 * One line per server and target: medians, every round's requests/s, ratios, the server's CPU per
 * request (user + system, from /proc) and its ratio to the peer's, RSS after the target and peak so far.
 */
export function formatComparisons(rows: Comparison[]): string {
  const header = ['target', 'server', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'rounds req/s', 'vs peer', 'vs baseline', 'CPU µs/req', 'CPU vs peer', 'RSS MB', 'peak MB'];
  const ratio = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)}x`);
  const mb = (value: number | undefined) => (value === undefined ? '' : value.toFixed(0));
  const line = (target: string, s: Side, vsPeer: number | undefined, vsBaseline: number | undefined, cpuVsPeer?: number) => [
    target,
    s.server,
    s.rps.toFixed(0),
    s.p50Ms.toFixed(2),
    s.p95Ms.toFixed(2),
    s.p99Ms.toFixed(2),
    s.rounds.map((r) => r.rps.toFixed(0)).join(' '),
    ratio(vsPeer),
    ratio(vsBaseline),
    s.cpuUsPerRequest === undefined ? '' : s.cpuUsPerRequest.toFixed(0),
    ratio(cpuVsPeer),
    mb(s.memory?.rssMb),
    mb(s.memory?.hwmMb),
  ];
  const cells = rows.flatMap((r) => [line(r.target, r.consulate, r.vsPeer, r.vsBaseline, r.cpuVsPeer), ...(r.peer ? [line(`  ${r.peer.target}`, r.peer, undefined, r.peerVsBaseline)] : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const format = (c: string[]) => c.map((v, i) => (i < 2 || i === 6 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ').trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(format)].join('\n');
}

export function writeComparisonJson(path: string, settings: Record<string, unknown>, rows: Comparison[], memory: unknown): void {
  writeFileSync(path, `${JSON.stringify({ settings, memory, results: rows }, null, 2)}\n`);
}

// --- guard.ts ---

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
