// Hot reload of config/: a change (file watch, SIGHUP, or a call) loads and checks the whole
// directory again; only a config with no problem at all replaces the running one, in one swap
// done by `apply`. Otherwise every problem is logged as `file:line:col  path  message` and the
// running config stays in force. Settings that shape the listener or the store need a restart.
import { existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from './config/load.ts';
import type { Overrides } from './config/overrides.ts';
import { ConfigError, formatProblems } from './config/problems.ts';
import type { Logger } from './log.ts';

export type Reloader = {
  /** Loads config/ again; true when the new config is in force. Never throws for a bad config. */
  reload(trigger: string): Promise<boolean>;
  /** What an operator needs to notice a refused reload: when the config in force was loaded, and the last attempt. */
  status(): ConfigStatus;
  close(): void;
};

export type ReloadOutcome = 'applied' | 'refused' | 'failed';

export type ConfigStatus = {
  /** Epoch seconds: when the config in force was loaded (start or last good reload). */
  loadedAt: number;
  /**
   * `errors`: why it was refused, one `file:line:col  path  message` each (at most `maxErrors`; the
   * messages name keys and rules, never values), or for a failed one a fixed sentence (the cause is logged).
   */
  lastReload?: { at: number; trigger: string; outcome: ReloadOutcome; problems?: number; errors?: string[] };
};

/** The status document carries at most this many problems of a refused reload; the log has all. */
export const maxErrors = 20;

const restartOnly = (config: Config) => JSON.stringify([config.main.issuer, config.main.listen, config.main.data_dir, config.main.database_url, config.main.metrics.listen]);

export function createReloader(options: {
  configDir: string;
  env?: NodeJS.ProcessEnv | undefined;
  overrides?: Overrides | undefined;
  log: Logger;
  current: () => Config;
  apply: (config: Config, trigger: string) => Promise<void>;
  /** Told every attempt's outcome (metrics). */
  onAttempt?: ((outcome: ReloadOutcome) => void) | undefined;
}): Reloader {
  const { log } = options;
  let running: Promise<boolean> = Promise.resolve(true);
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  const seconds = () => Math.floor(Date.now() / 1000);
  const state: ConfigStatus = { loadedAt: seconds() };
  const attempted = (trigger: string, outcome: ReloadOutcome, errors?: string[], problems?: number) => {
    state.lastReload = { at: seconds(), trigger, outcome, ...(problems === undefined ? {} : { problems }), ...(errors ? { errors } : {}) };
    if (outcome === 'applied') state.loadedAt = state.lastReload.at;
    options.onAttempt?.(outcome);
  };

  async function load(trigger: string): Promise<boolean> {
    let config: Config;
    try {
      config = loadConfig(options.configDir, { ...(options.env ? { env: options.env } : {}), ...(options.overrides ? { overrides: options.overrides } : {}) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) log.error({ file: problem.file, line: problem.line, col: problem.col, trigger }, formatProblems([problem]));
      log.error({ trigger, problems: error.problems.length }, 'config reload refused: the running config stays in force');
      attempted(trigger, 'refused', error.problems.slice(0, maxErrors).map((problem) => formatProblems([problem]).slice(0, 500)), error.problems.length);
      return false;
    }
    if (restartOnly(config) !== restartOnly(options.current())) log.warn({ trigger }, 'issuer, listen, data_dir, database_url and metrics.listen changes take effect only after a restart');
    await options.apply(config, trigger);
    log.info({ trigger }, 'config reloaded');
    attempted(trigger, 'applied');
    return true;
  }

  const reloader: Reloader = {
    // One reload at a time, in order: a burst of triggers cannot interleave two swaps.
    reload(trigger) {
      running = running.then(
        () => load(trigger),
        () => load(trigger),
      );
      return running.catch((error: unknown) => {
        log.error({ err: error, trigger }, 'config reload failed: the running config stays in force');
        attempted(trigger, 'failed', ['the new config was valid but could not be applied; the log says why']);
        return false;
      });
    },
    status: () => ({ ...state, ...(state.lastReload ? { lastReload: { ...state.lastReload, ...(state.lastReload.errors ? { errors: [...state.lastReload.errors] } : {}) } } : {}) }),
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };

  const { watch: enabled, debounce_ms } = options.current().main.reload;
  if (enabled) {
    const changed = (name: string | Buffer | null) => {
      // Editors write temp and swap files next to the real one; only YAML counts.
      if (name && !/\.ya?ml$/.test(String(name))) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reloader.reload('watch'), debounce_ms);
      timer.unref();
    };
    // One non-recursive watch per directory: Node 20's recursive watch on Linux follows files, and
    // loses a file after the first save by rename (how editors and `consulate agent` save).
    // A directory watch sees every rename into it. A new subdirectory is watched when it appears.
    const watchDir = (dir: string) => {
      if (watchers.has(dir)) return;
      try {
        const dirWatcher = watch(dir, { persistent: false }, (_event, name) => {
          // A new subdirectory: watch it, and reload in case files landed in it before the watch did.
          if (dir === options.configDir && name && configSubdirs.has(String(name))) {
            watchIfDir(join(dir, String(name)));
            changed(null);
            return;
          }
          changed(name);
        });
        dirWatcher.on('error', (error) => log.warn({ err: error, dir }, 'config watch stopped; SIGHUP still reloads'));
        watchers.set(dir, dirWatcher);
      } catch (error) {
        log.warn({ err: error, dir }, 'cannot watch the config directory; SIGHUP still reloads');
      }
    };
    const watchIfDir = (dir: string) => {
      if (existsSync(dir) && statSync(dir).isDirectory()) watchDir(dir);
    };
    watchDir(options.configDir);
    for (const sub of configSubdirs) watchIfDir(join(options.configDir, sub));
  }
  return reloader;
}

const configSubdirs: ReadonlySet<string> = new Set(['clients', 'resources', 'upstreams', 'mappings', 'issuers', 'policies']);
