// `npm run bench` (after the HTTP bench): in-process throughput of the claims mapping engine —
// mapClaims with each preset on its realistic claim set (the first case of
// src/claims/presets/<kind>.fixtures.yaml), against a baseline measured in the same run:
// structuredClone of the same claims (a deep copy, the least any mapping must do). Each target is
// checked once, warmed up, then measured for BENCH_MAPPING_SECONDS (2). No assertions on timing.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fixtureFileSchema, loadPreset, mapClaims, presetFixturesFile, presetKinds, type UpstreamKind } from '../../src/claims/engine.ts';

const seconds = Number(process.env.BENCH_MAPPING_SECONDS ?? 2);
const warmupSeconds = 0.5;

type Row = { target: string; perSecond: number; microseconds: number; vsBaseline: number };

/** Calls `fn` in batches until `duration` seconds have passed; returns calls per second. */
function measure(fn: () => unknown, duration: number): number {
  const batch = 200;
  let calls = 0;
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(duration * 1e9));
  let now = started;
  while (now < until) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    now = process.hrtime.bigint();
  }
  return calls / (Number(now - started) / 1e9);
}

function realisticClaims(kind: UpstreamKind): { name: string; claims: Record<string, unknown>; issuer: string } {
  const [first] = fixtureFileSchema.parse(parse(readFileSync(presetFixturesFile(kind), 'utf8')));
  if (!first) throw new Error(`no fixture for ${kind}`);
  return { name: first.name, claims: first.claims as Record<string, unknown>, issuer: first.upstream?.issuer ?? `https://${kind}.example` };
}

const rows: Row[] = [];
for (const kind of presetKinds) {
  const { ruleSet } = loadPreset(kind);
  const { claims, issuer } = realisticClaims(kind);
  const input = { upstream: { id: kind, kind, issuer }, claims };
  const check = mapClaims(ruleSet, input);
  if (!check.ok) throw new Error(`${kind}: the preset does not map its own fixture: ${JSON.stringify(check)}`);
  const clone = () => structuredClone(claims);
  const map = () => mapClaims(ruleSet, input);
  measure(clone, warmupSeconds);
  measure(map, warmupSeconds);
  const baseline = measure(clone, seconds);
  const perSecond = measure(map, seconds);
  rows.push({ target: `structuredClone (${kind} claims)`, perSecond: baseline, microseconds: 1e6 / baseline, vsBaseline: 1 });
  rows.push({ target: `mapClaims ${kind} preset`, perSecond, microseconds: 1e6 / perSecond, vsBaseline: perSecond / baseline });
}

const header = ['target', 'claim sets/s', 'µs each', 'vs structuredClone'];
const cells = rows.map((r) => [r.target, r.perSecond.toFixed(0), r.microseconds.toFixed(2), `${r.vsBaseline.toFixed(2)}×`]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
const line = (c: string[]) => c.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
process.stdout.write(`\nClaims mapping (in-process, ${seconds} s per target, Node ${process.version})\n`);
process.stdout.write(`${[line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n')}\n`);
