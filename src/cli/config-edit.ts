// Changes to config files made by commands, never leaving a broken file behind: the change is
// first checked by loading a scratch copy of the whole config directory with it (everything a
// running server would check), then written (see writeWhole). Temporary names start with a dot
// and end in .tmp: neither the loader nor the watcher reads them.
import { cpSync, linkSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Overrides } from '../config/overrides.ts';
import { ConfigError, type ConfigProblem } from '../config/problems.ts';

/** Problems of the config directory if `file` held `text`; empty when it loads. */
export function checkChange(configDir: string, file: string, text: string, options: { env?: NodeJS.ProcessEnv; overrides?: Overrides } = {}): ConfigProblem[] {
  const root = resolve(configDir);
  const inside = relative(root, resolve(file));
  if (!inside || inside.startsWith('..') || isAbsolute(inside)) throw new Error(`${file} is not inside ${configDir}`);
  const scratch = mkdtempSync(join(tmpdir(), 'consulate-config-check-'));
  try {
    const copy = join(scratch, 'config');
    // Only what the loader reads (YAML), never a database that may live beside it.
    cpSync(root, copy, { recursive: true, filter: (path) => /\.ya?ml$/.test(path) || statSync(path).isDirectory() });
    writeFileSync(join(copy, inside), text);
    loadConfig(copy, options);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Name the real files, not the scratch copy.
    return error.problems.map((problem) => {
      const at = resolve(problem.file);
      return at.startsWith(copyPrefix(scratch)) ? { ...problem, file: relative(process.cwd(), join(root, relative(join(scratch, 'config'), at))) } : problem;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const copyPrefix = (scratch: string) => `${join(scratch, 'config')}${sep}`;

/**
 * Atomic: the text is written beside the file first (a full disk fails before the real file is
 * touched), then `create` links it in place (EEXIST rather than replace a file) and `replace`
 * renames it over the old one (same permissions), so a reader never sees half a file. The
 * server's config watch sees renames (reload.ts watches directories).
 */
export function writeWhole(file: string, text: string, mode: 'replace' | 'create'): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, text, { mode: mode === 'replace' ? statSync(file).mode & 0o777 : 0o644 });
  try {
    if (mode === 'create') linkSync(temporary, file);
    else renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}
