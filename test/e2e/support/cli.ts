// The consulate command as the tests run it: the compiled CLI, dist/cli/main.js, as the package's
// `consulate` bin and `npm start` run it. `npm run build` makes it (npm test builds first); running
// vitest alone after changing src/ needs `npm run build` before, or the CLI tests see the old code.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const compiled = resolve(import.meta.dirname, '../../../dist/cli/main.js');

/** `consulate <args>` as a command and its arguments, for spawn or execFile. */
export function consulateCommand(args: string[]): [command: string, args: string[]] {
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` first (npm test does)`);
  return [process.execPath, [compiled, ...args]];
}
