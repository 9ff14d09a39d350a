// npm test's pretest step: the Debian packages the tests drive. Chromium for the browser tests
// (test/e2e/support/chromium.ts), PostgreSQL for the PostgreSQL store tests (test/setup/postgres-cluster.ts).
// All there: nothing to do, nothing printed. Some missing: when this user may install packages (root
// or passwordless sudo, apt-get present), install them with one apt-get run, saying so in one line.
// Otherwise print one line per package saying what to do and let the run go on: those tests are then
// skipped with that reason, except under CI=true, where they fail. This step never fails the run.
//
// CHROMIUM_PATH=<file>: use that Chromium; nothing is installed for it.
// PG_BIN=<dir>: use the initdb and pg_ctl in that directory; nothing is installed for it.
// CONSULATE_NO_INSTALL=1: never install (e.g. to see the "cannot install" path on a machine that could).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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

// As test/e2e/support/chromium.ts and test/setup/postgres.ts decide.
const ci = /^(true|1)$/i.test(process.env.CI ?? '');
const instead = (tests) => (ci ? `the ${tests} will fail (CI is set: they must run there)` : `the ${tests} will be skipped`);

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const postgresBin = () => {
  if (process.env.PG_BIN) return executable(join(process.env.PG_BIN, 'initdb'));
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((major) => executable(join(root, major, 'bin', 'initdb')));
};

/** What the tests need: the Debian package, whether it is here, and what to say when it is not. */
const packages = [
  {
    name: 'chromium',
    present: () => executable(chromium),
    pinned: process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${chromium} is not an executable file: point it at Chromium, or unset it to use Debian's (sudo apt-get install chromium)` : undefined,
    missing: `Chromium is not installed (${chromium}): run \`sudo apt-get install chromium\` or set CHROMIUM_PATH to a Chromium executable`,
    tests: 'browser tests',
  },
  {
    name: 'postgresql',
    present: postgresBin,
    pinned: process.env.PG_BIN ? `PG_BIN=${process.env.PG_BIN} holds no initdb: point it at PostgreSQL's bin directory, or unset it to use Debian's (sudo apt-get install postgresql)` : undefined,
    missing: 'PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin): run `sudo apt-get install postgresql` or set PG_BIN to its bin directory',
    tests: 'PostgreSQL tests',
  },
];

const absent = packages.filter((p) => !p.present());
for (const p of absent.filter((p) => p.pinned)) say(`${p.pinned}; ${instead(p.tests)}.`);
const wanted = absent.filter((p) => !p.pinned);
if (wanted.length > 0) {
  const root = asRoot();
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.env.CONSULATE_NO_INSTALL || root === undefined || !hasApt) {
    for (const p of wanted) say(`${p.missing}; ${instead(p.tests)}.`);
  } else {
    const names = wanted.map((p) => p.name);
    say(`not installed: ${names.join(', ')}; installing Debian's package(s) for the ${wanted.map((p) => p.tests).join(' and ')} (${[...root, 'apt-get install -y', ...names].join(' ')}, a minute or two)…`);
    const started = Date.now();
    const update = run(root, ['apt-get', 'update', '-q']);
    const install = update.status === 0 ? run(root, ['apt-get', 'install', '-y', '-q', ...names]) : update;
    const still = wanted.filter((p) => !p.present());
    if (install.status === 0 && still.length === 0) {
      say(`installed ${names.join(', ')} in ${Math.round((Date.now() - started) / 1000)} s.`);
    } else {
      const output = `${install.stdout ?? ''}${install.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      process.stderr.write(`${output || install.error?.message || ''}\n`);
      for (const p of still) say(`installing ${p.name} failed (output above): ${p.missing.replace(/^.*?: run/, 'run')}; ${instead(p.tests)}.`);
    }
  }
}
