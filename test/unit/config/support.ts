// Temporary config directories for config tests, and helpers to read problems back.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'vitest';
import { loadConfig, type LoadOptions } from '../../../src/config/load.ts';
import { ConfigError, type ConfigProblem } from '../../../src/config/problems.ts';

/** A hash of a real secret, in the format `consulate secret hash` prints. */
export const validSecretHash = 'sha256:7Vxg8Ey_1JFqbBNPKKbhmky7Uc19QUbAJ9va6eOamsk';

/** A small valid config: one resource and one client of it. Tests replace or add files. */
export const baseFiles = {
  'consulate.yaml': 'listen:\n  host: 127.0.0.1\n  port: 8080\n',
  'resources/api.yaml': ['resource: https://api.example', 'scopes:', '  read: Read things', ''].join('\n'),
  'clients/agent.yaml': [
    'client_id: agent',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: ${validSecretHash}`,
    'resources:',
    '  https://api.example:',
    '    scopes: [read]',
    '',
  ].join('\n'),
} as const;

const made: string[] = [];

/** Writes `files` (relative path → text) into a fresh directory under the OS temp dir. */
export function writeConfigDir(files: Record<string, string | undefined>): string {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-config-test-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    if (text === undefined) continue;
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Removes every directory writeConfigDir made; call from afterEach. */
export function removeConfigDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The file name problems show: relative to the working directory. */
export const shown = (dir: string, name: string): string => relative(process.cwd(), join(dir, name));

/** Loads `dir`, expecting it to fail, and returns every problem reported. */
export function problemsOf(dir: string, options: LoadOptions = { env: {} }): readonly ConfigProblem[] {
  try {
    loadConfig(dir, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${dir} to have config problems, but it loaded`);
}

/** 1-based line and column of the `occurrence`-th appearance of `snippet` in `text`. */
export function positionOf(text: string, snippet: string, occurrence = 1): { line: number; col: number } {
  let index = -1;
  for (let n = 0; n < occurrence; n++) {
    index = text.indexOf(snippet, index + 1);
    if (index < 0) throw new Error(`${JSON.stringify(snippet)} (occurrence ${occurrence}) not in text`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: (before.at(-1) as string).length + 1 };
}
