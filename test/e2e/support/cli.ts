// The consulate command as the tests run it: the compiled CLI, dist/cli/main.js, as the package's
// `consulate` bin and `npm start` run it. `npm run build` makes it (npm test builds first); running
// vitest alone after changing src/ needs `npm run build` before, or the CLI tests see the old code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const compiled = resolve(root, 'dist/cli/main.js');

/** `consulate <args>` as a command and its arguments, for spawn or execFile. */
export function consulateCommand(args: string[]): [command: string, args: string[]] {
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` first (npm test does)`);
  return [process.execPath, [compiled, ...args]];
}

export type CliResult = { code: number | null; stdout: string; stderr: string };

/**
 * Runs `consulate <args>` to completion from the repository root, with `env` over the test's
 * environment stripped of CONSULATE_* variables (so only what a case sets applies); kills it and
 * fails after `timeoutMs`.
 */
export function runConsulate(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONSULATE_')));
  const child = spawn(...consulateCommand(args), { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`consulate ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
