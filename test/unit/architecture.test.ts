// The dependency direction of ARCHITECTURE.md, enforced: only http/ (and the entry points) import
// hono, only store/ imports drizzle or a database driver, and oauth/ imports nothing internal;
// every import between src/ modules follows the layer table below, and no import cycle exists
// (docs/contributors/architecture.md explains the table).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');
const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f)).map((f) => join(src, f));
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
const rel = (file: string) => relative(src, file);

describe('architecture', () => {
  // demo/demo-app.tsx is a separate relying party (the demo app), not part of the server.
  it('hono only in http/, sdk/, app.ts, main.ts and the demo app', () => {
    const offenders = files.filter((f) => importsOf(f).some((i) => i === 'hono' || i.startsWith('hono/') || i.startsWith('@hono/')) && !/^(http|sdk)\/|^(app|main)\.ts$|^demo\/demo-app\.tsx$|^demo\/demo-api\.ts$/.test(rel(f)));
    expect(offenders.map(rel)).toEqual([]);
  });
  it('drizzle and database drivers only in store/', () => {
    const offenders = files.filter((f) => importsOf(f).some((i) => /^(drizzle-orm|better-sqlite3|pg)(\/|$)/.test(i)) && !rel(f).startsWith('store/'));
    expect(offenders.map(rel)).toEqual([]);
  });
  it('examples/ use Consulate only through the SDK (src/sdk/index.ts), as a user of the package would', () => {
    const examples = resolve(import.meta.dirname, '../../examples');
    const exampleFiles = (readdirSync(examples, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f)).map((f) => join(examples, f));
    expect(exampleFiles.length).toBeGreaterThan(0);
    const offenders = exampleFiles.filter((f) => importsOf(f).some((i) => i.includes('/src/') && !i.endsWith('/src/sdk/index.ts')));
    expect(offenders.map((f) => relative(examples, f))).toEqual([]);
  });
  it('prom-client only in metrics/ (services record through deps.metrics)', () => {
    const offenders = files.filter((f) => importsOf(f).some((i) => i === 'prom-client' || i.startsWith('prom-client/')) && !rel(f).startsWith('metrics/'));
    expect(offenders.map(rel)).toEqual([]);
  });
  it('OpenTelemetry: only @opentelemetry/api is imported statically; the SDK only by tracing/start.ts, lazily; store/ never imports tracing/', () => {
    const otel = files.filter((f) => importsOf(f).some((i) => i.startsWith('@opentelemetry/') && i !== '@opentelemetry/api'));
    expect(otel.map(rel)).toEqual([]);
    expect(readFileSync(join(src, 'tracing/start.ts'), 'utf8')).toContain("import('@opentelemetry/sdk-trace-node')");
    const storeToTracing = files.filter((f) => rel(f).startsWith('store/') && importsOf(f).some((i) => i.includes('/tracing/')));
    expect(storeToTracing.map(rel)).toEqual([]);
  });
  it('oauth/ imports nothing internal outside itself', () => {
    const offenders = files.filter((f) => rel(f).startsWith('oauth/') && importsOf(f).some((i) => i.startsWith('..')));
    expect(offenders.map(rel)).toEqual([]);
  });
});

// ---- The layer table -------------------------------------------------------------------------------
// A module is a top-level folder of src/ (or a file at its root), except two leaves cut out of their
// folders: config's schemas and types ('config-types') apart from its loader and checks ('config'),
// and the store's ports ('store-ports': ports.ts, the ports-*.ts it re-exports, and the unavailable error) apart from its backends.

/** A relative import of one src/ file by another; `typeOnly`: `import type` / `export type` (erased at run time). */
type Edge = { from: string; to: string; typeOnly: boolean };

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const target = resolve(dirname(file), spec);
    const found = [target, `${target}.ts`, `${target}.tsx`, target.replace(/\.js$/, '.ts')].find((candidate) => existsSync(candidate) && /\.tsx?$/.test(candidate));
    if (found) edges.push({ from: rel(file), to: rel(found), typeOnly });
  };
  for (const m of text.matchAll(/^(?:import|export)(\s+type)?\s[^'";]*?from\s*['"](\.[^'"]+)['"]/gm)) add(m[2] as string, m[1] !== undefined);
  for (const m of text.matchAll(/^import\s*['"](\.[^'"]+)['"]/gm)) add(m[1] as string, false);
  for (const m of text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) add(m[1] as string, false);
  return edges;
}
const edges = files.flatMap(edgesOf);

function moduleOf(file: string): string {
  if (/^config\/(schema|types|values|problems|yaml-source|[a-z-]+-schema)\.ts$/.test(file)) return 'config-types';
  if (/^store\/(ports(-[a-z]+)?|unavailable)\.ts$/.test(file)) return 'store-ports';
  const slash = file.indexOf('/');
  return slash === -1 ? file.replace(/\.tsx?$/, '') : file.slice(0, slash);
}

const services = ['agents', 'authorize', 'clients', 'consent', 'delegation', 'federation', 'grants', 'introspection', 'pats', 'ssf'];
const foundation = ['oauth', 'log', 'config-types', 'store-ports'];
const pure = ['claims', 'obligations', 'dpop'];
/**
 * What each module may import besides itself: modules, or single files of a module (`audit/chain.ts`).
 * `types`: what it may import only as types (`import type`), e.g. the composition root's `Deps`.
 * '*': the entry points and the composition root may import anything.
 */
const layers: Record<string, { imports: readonly string[] | '*'; types?: readonly string[] }> = {
  // The foundation: imported by everyone, imports nothing internal (config's schemas name the grant URNs of oauth/).
  oauth: { imports: [] },
  log: { imports: [] },
  'store-ports': { imports: [] },
  'config-types': { imports: ['oauth'] },
  // Pure: data in, a result out, `now` passed in (dpop/request.ts checks a proof against the replay port).
  claims: { imports: ['config-types'] },
  obligations: { imports: ['claims', 'config-types', 'oauth'] },
  dpop: { imports: ['oauth', 'config-types', 'store-ports'] },
  // Small infrastructure behind the services.
  limits: { imports: ['oauth', 'store-ports'] },
  tracing: { imports: ['log', 'store-ports'] },
  metrics: { imports: ['log', 'store-ports'], types: ['federation', 'reload'] },
  // Loading the config compiles its mapping rules and policies (pure) to report their problems at file:line:col.
  config: { imports: ['oauth', 'config-types', 'claims', 'obligations', 'federation/entra-tenants.ts'] },
  // The backends: only the hash chain and the budget arithmetic they keep consistent inside a transaction.
  store: { imports: ['store-ports', 'config-types', 'audit/chain.ts', 'delegation/budget.ts'] },
  // Keys, minting, verification: low enough for the audit checkpoints to sign with.
  passports: { imports: ['oauth', 'config-types', 'store-ports', 'tracing', 'delegation/act.ts'], types: ['deps'] },
  audit: { imports: ['oauth', 'log', 'config-types', 'config', 'claims', 'obligations', 'passports', 'store-ports'], types: ['deps'] },
  // Services: the pure layer, the small infrastructure, receipts, Passports and store ports; one another (never in a cycle); Deps as a type only.
  ...Object.fromEntries(services.map((service) => [service, { imports: [...foundation, ...pure, 'config', 'limits', 'tracing', 'audit', 'passports', 'metrics/labels.ts', ...services], types: ['deps'] }])),
  // HTTP: routes over the services; never the backends, the CLI or the composition root.
  http: { imports: [...foundation, ...pure, ...services, 'config', 'limits', 'tracing', 'metrics', 'audit', 'passports'], types: ['deps', 'reload'] },
  // The SDK ships to users: oauth/ and the proof checks it shares with the server, nothing else.
  sdk: { imports: ['oauth', 'dpop/proof.ts', 'dpop/nonce.ts'] },
  app: { imports: '*' },
  main: { imports: '*' },
  deps: { imports: '*' },
  reload: { imports: '*' },
  cli: { imports: '*' },
  demo: { imports: '*' },
};

describe('layers', () => {
  it('every module of src/ has a row in the layer table', () => {
    expect([...new Set(files.map((f) => moduleOf(rel(f))))].filter((m) => !(m in layers)).sort()).toEqual([]);
  });
  it('every import between modules follows the layer table (no upward import)', () => {
    const allows = (list: readonly string[] | '*' | undefined, to: string) => list === '*' || (list ?? []).some((entry) => entry === moduleOf(to) || entry === to);
    const offenders = edges
      .filter(({ from, to, typeOnly }) => {
        const [a, b] = [moduleOf(from), moduleOf(to)];
        const row = layers[a];
        return a !== b && !(row && (allows(row.imports, to) || (typeOnly && allows(row.types, to))));
      })
      .map(({ from, to, typeOnly }) => `${from} → ${to}${typeOnly ? ' (type)' : ''}`);
    expect(offenders).toEqual([]);
  });
  it('no import cycle among the files of src/ (type-only imports count: a leaf type module breaks one)', () => {
    const graph = new Map<string, string[]>();
    for (const { from, to } of edges) graph.set(from, [...(graph.get(from) ?? []), to]);
    // Depth-first search; a file met again while still on the path closes a cycle.
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
