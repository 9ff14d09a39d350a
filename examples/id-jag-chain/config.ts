// The example's two config directories (config/a, config/b), as files, with their loopback
// addresses moved when asked: the committed YAML names fixed ports (A 8180, its stand-in Okta
// 8181, the app's callback 8190, B 8280); a run on other ports (the test's ephemeral ones) gets
// the same files with those origins replaced, so what runs is what a reader sees.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const defaultOrigins = {
  a: 'http://127.0.0.1:8180',
  okta: 'http://127.0.0.1:8181',
  app: 'http://127.0.0.1:8190',
  b: 'http://127.0.0.1:8280',
} as const;

export type Origins = { [K in keyof typeof defaultOrigins]: string };

/** The demo secrets of the committed client files (public on purpose: example only). */
export const exampleSecrets = {
  app: 'o5GxPjfqqfzRnHFMrOd1ssWNh4FtiCb_iU47Hp-FFTc',
  orchestratorAtA: 'KnuHGpm1x9shLOpPwbI-EI_IHbNL8AG-Z4w0Yedx09I',
  orchestratorAtB: 'o_sN4lqckT-PS7akoXdZ4tlOFK3Qc3gBq7x3FMKVAjk',
  worker: '17Px5tQLryk5cd9jcO0Qpi3iZhh446o_LR5EH6seZds',
  /** Consulate A's secret at its stand-in Okta (config/a/upstreams/okta.yaml). */
  okta: 'id-jag-example-okta-secret-not-for-production',
} as const;

/** Files of config/<which> by relative path, with the default origins replaced by `origins`. */
export function configFiles(which: 'a' | 'b', origins: Origins = defaultOrigins): Record<string, string> {
  const dir = resolve(import.meta.dirname, 'config', which);
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    if (!name.endsWith('.yaml')) continue;
    let text = readFileSync(join(dir, name), 'utf8');
    for (const key of Object.keys(defaultOrigins) as (keyof Origins)[]) text = text.replaceAll(defaultOrigins[key], origins[key]);
    files[relative(dir, join(dir, name))] = text;
  }
  return files;
}
