// npm test's pretest step: the browser tests drive Debian's Chromium (test/e2e/support/chromium.ts).
// Chromium there: nothing to do, nothing printed. Missing: when this user may install packages (root or
// passwordless sudo, apt-get present), install Debian's `chromium` package, saying so in one line.
// Otherwise print one line saying what to do and let the run go on: the browser tests are then
// skipped with that reason, except under CI=true, where they fail. This step never fails the run.
//
// CHROMIUM_PATH=<file>: use that Chromium; nothing is installed for it.
// CONSULATE_NO_INSTALL=1: never install (e.g. to see the "cannot install" path on a machine that could).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const say = (line) => process.stdout.write(`pretest: ${line}\n`);

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How to run a command as root here: [] as root, ['sudo', '-n'] with passwordless sudo, undefined otherwise. */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : undefined;
}

function run(prefix, args) {
  const [command, ...rest] = [...prefix, 'env', 'DEBIAN_FRONTEND=noninteractive', ...args];
  return spawnSync(command, rest, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
}

// As test/e2e/support/chromium.ts decides.
const ci = /^(true|1)$/i.test(process.env.CI ?? '');
const instead = ci ? 'the browser tests will fail (CI is set: they must run there)' : 'the browser tests will be skipped';

if (!executable(path)) {
  const root = asRoot();
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.env.CHROMIUM_PATH) {
    say(`CHROMIUM_PATH=${path} is not an executable file: point it at Chromium, or unset it to use Debian's (sudo apt-get install chromium); ${instead}.`);
  } else if (process.env.CONSULATE_NO_INSTALL || root === undefined || !hasApt) {
    say(`Chromium is not installed (${path}): run \`sudo apt-get install chromium\` or set CHROMIUM_PATH to a Chromium executable; ${instead}.`);
  } else {
    say(`Chromium is not installed (${path}): installing Debian's chromium package for the browser tests (${[...root, 'apt-get install -y chromium'].join(' ')}, a minute or two)…`);
    const started = Date.now();
    const update = run(root, ['apt-get', 'update', '-q']);
    const install = update.status === 0 ? run(root, ['apt-get', 'install', '-y', '-q', 'chromium']) : update;
    if (install.status === 0 && executable(path)) {
      say(`installed ${path} in ${Math.round((Date.now() - started) / 1000)} s.`);
    } else {
      const output = `${install.stdout ?? ''}${install.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      process.stderr.write(`${output || install.error?.message || ''}\n`);
      say(`installing Chromium failed (output above): run \`sudo apt-get install chromium\` or set CHROMIUM_PATH to a Chromium executable; ${instead}.`);
    }
  }
}
