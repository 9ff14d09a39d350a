// Figures of `npm run bench:postgres` (stores.ts): per target and store configuration, the medians
// of its rounds, the ratio to the run's bare-Hono baseline and to SQLite on the same target, and
// the server side's CPU per request; as a plain-text table in report.ts's style and as JSON.
import { writeFileSync } from 'node:fs';
import type { Side } from './report.ts';

export type StoreRow = {
  target: string;
  /** 'SQLite', 'PG 1 node', 'PG 2 nodes' (or the baseline). */
  store: string;
  side: Side;
  /** Median requests/s ÷ the baseline's median requests/s. */
  vsBaseline: number;
  /** Median requests/s ÷ SQLite's median requests/s on the same target (absent on SQLite itself). */
  vsSqlite?: number;
  /** Median server-side CPU per request (Consulate nodes, and PostgreSQL's processes), in µs. */
  cpuUsPerRequest?: number;
  /** That CPU ÷ SQLite's on the same target. */
  cpuVsSqlite?: number;
};

export function formatStoreRows(rows: StoreRow[]): string {
  const header = ['target', 'store', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'rounds req/s', 'vs baseline', 'vs SQLite', 'CPU µs/req', 'CPU vs SQLite'];
  const ratio = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)}x`);
  const cells = rows.map((r, i) => [
    // The target's name once, on its first configuration.
    i > 0 && rows[i - 1]?.target === r.target ? '' : r.target,
    r.store,
    r.side.rps.toFixed(0),
    r.side.p50Ms.toFixed(2),
    r.side.p95Ms.toFixed(2),
    r.side.p99Ms.toFixed(2),
    r.side.rounds.map((round) => round.rps.toFixed(0)).join(' '),
    ratio(r.vsBaseline),
    ratio(r.vsSqlite),
    r.cpuUsPerRequest === undefined ? '' : r.cpuUsPerRequest.toFixed(0),
    ratio(r.cpuVsSqlite),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const format = (c: string[]) => c.map((v, i) => (i < 2 || i === 6 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ').trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(format)].join('\n');
}

export function writeStoreJson(path: string, settings: Record<string, unknown>, rows: StoreRow[], memory: unknown): void {
  writeFileSync(path, `${JSON.stringify({ settings, memory, results: rows }, null, 2)}\n`);
}
