// What the operator commands (agent, delegation) share: the config and store options, loading the
// config or saying exactly what is wrong with it, opening the store it names, a plain table, and a
// failure that names the problem and exits. Text goes to the terminal; nothing here logs secrets.
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/load.ts';
import { ConfigError, formatProblems, problemReport, type ConfigProblem } from '../config/problems.ts';
import type { Store } from '../store/ports.ts';
import { openConfiguredStore } from '../main.ts';
import { configOption, reportConfigError } from './serve.ts';

export type StoreFlags = { config: string; dataDir?: string; databaseUrl?: string };

export const storeOptions = (command: Command): Command =>
  configOption(command)
    .option('--data-dir <dir>', 'directory of the embedded database (env CONSULATE_DATA_DIR)')
    .option('--database-url <url>', 'database URL (env CONSULATE_DATABASE_URL)');

/** Exit 1 for "refused" (state, unknown id, config problems), 2 for a usage mistake. */
export function fail(message: string, code: 1 | 2 = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export function reportProblems(problems: readonly ConfigProblem[], what: string): never {
  fail(`${formatProblems(problems)}\n${problems.length} problem(s) in config: ${what}`);
}

export const overridesOf = (flags: Partial<StoreFlags>) => ({
  ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
  ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
});

/** The config as a running server would load it; its problems end the command. */
export function loadConfigOrExit(flags: Partial<StoreFlags> & { config: string }): Config {
  try {
    return loadConfig(flags.config, { overrides: overridesOf(flags) });
  } catch (error) {
    if (error instanceof ConfigError) fail(problemReport(error, 'fix them first (consulate check); a running server would not load this config either'));
    throw error;
  }
}

export async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  // A database out of reach or newer than this code: one line, no stack.
  const store = await openConfiguredStore(config).catch(reportConfigError);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export const isoDate = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
