// The dependency direction of ARCHITECTURE.md, enforced: only http/ (and the entry points) import
// hono, only store/ imports drizzle or a database driver, and oauth/ imports nothing internal.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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
