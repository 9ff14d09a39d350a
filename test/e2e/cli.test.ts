// The consulate command as an operator runs it: a real process of the compiled CLI per case,
// judged by exit code, stdout and stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '../../src/clients/secrets.ts';
import { freePort } from './support/browser.ts';
import { consulateCommand } from './support/cli.ts';
import { fixtureEnv, makeConfigDir } from './support/consulate.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';

const root = resolve(import.meta.dirname, '../..');
const commandTimeoutMs = 15_000;

/** The test's environment without CONSULATE_* variables, so only what a case sets applies. */
const baseEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONSULATE_')));

type Result = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(...consulateCommand(args), { cwd: root, env: { ...baseEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Collects the output of `child` until it exits; kills it and fails after `timeoutMs`. */
function finished(child: ChildProcess, timeoutMs = commandTimeoutMs): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolveResult, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`consulate did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveResult({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `consulate <args>` to completion; `input` is written to stdin, which is then closed. */
function consulate(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  const child = start(args, options.env);
  const result = finished(child);
  child.stdin?.end(options.input ?? '');
  return result;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-cli-test-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A config directory whose consulate.yaml has two problems; returns the dir and the file as the CLI shows it. */
function brokenConfigDir(): { dir: string; shown: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'consulate.yaml'), 'listen:\n  port: "abc"\nlisen: x\n');
  return { dir, shown: relative(root, join(dir, 'consulate.yaml')) };
}

const problemLine = /^\S+:\d+:\d+  \S+  .+$/;

describe('consulate mapping explain', () => {
  const alice = { oid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', tid: '9188040d-6c67-4c5b-b112-36a304b66dad', email: 'Alice@Contoso.example', name: 'Alice Anderson', xms_edov: true, groups: ['6a1e8d4b-7c2f-4f9a-b3e5-1d0c9b8a7f62'] };

  it('prints each canonical claim with the rule and expression that produced it', async () => {
    const file = join(tempDir(), 'alice.json');
    writeFileSync(file, JSON.stringify(alice));
    const result = await consulate(['mapping', 'explain', 'entra', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rule set contoso');
    expect(result.stdout).toMatch(/roles\s+\["admin"\]\s+expr\s+claims\.roles\s+claims\.groups\.filter/);
    expect(result.stdout).toMatch(/orig_sub\s+"3f2504e0-4f89-41d3-9a0c-0305e82c3301"\s+expr\s+subject\s+claims\.oid/);
    expect(result.stdout).toContain('outcome: login allowed');
  });

  it('--json, from a raw ID token, and a deny rule that fires', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ ...alice, tid: '00000000-0000-0000-0000-000000000000' })}.c2ln`;
    const file = join(tempDir(), 'token.txt');
    writeFileSync(file, token);
    const result = await consulate(['mapping', 'explain', 'entra', file, '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ upstream: 'entra', rule_set: 'contoso', signature_checked: false, outcome: 'denied', denied_by: 0, message: 'Only Contoso accounts may sign in here.' });
    expect((body.trace as { claim: string }[]).map((t) => t.claim)).toContain('roles');
  });

  it('an unknown upstream or an unreadable sample: exit 2 with a message', async () => {
    expect((await consulate(['mapping', 'explain', 'nowhere', 'x.json'])).code).toBe(2);
    const bad = join(tempDir(), 'bad.json');
    writeFileSync(bad, '[1,2]');
    const result = await consulate(['mapping', 'explain', 'okta', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('JSON object of claims');
  });
});

describe('consulate check', () => {
  it('accepts the demo config: exit 0 and "config OK" with the counts', async () => {
    const result = await consulate(['check']);
    expect(result).toEqual({ code: 0, signal: null, stdout: 'config OK: 7 client(s) (3 agent(s)), 4 resource(s), 3 upstream(s), 0 trusted issuer(s), 1 mapping rule set(s) (fixtures passed)\n', stderr: '' });
  });

  it('lists every problem of a broken config as file:line:col lines on stderr and exits 1', async () => {
    const { dir, shown } = brokenConfigDir();
    const result = await consulate(['check', '--config', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      `${shown}:2:9  listen.port  Invalid input: expected number, received string`,
      `${shown}:3:1  lisen  unknown key`,
      '2 problem(s) in config; checks across files (resources, scopes, upstreams, mappings and their fixtures, policies) run once these are fixed',
    ]);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(problemLine);
  });

  it('says when checks across files are still to come, and runs them once the files themselves are valid', async () => {
    const { configDir } = makeConfigDir({ 'clients/broken.yaml': 'client_id: broken\nkind: service\ncolour: blue\n' }, tempDir());
    // A copy of a valid client under another file name: the same client_id twice, which only a
    // check across files can see.
    writeFileSync(join(configDir, 'clients/copy.yaml'), readFileSync(join(configDir, 'clients', readdirSync(join(configDir, 'clients')).find((f) => f !== 'broken.yaml') as string), 'utf8'));
    const first = await consulate(['check', '--config', configDir], { env: fixtureEnv() });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('clients/broken.yaml');
    expect(first.stderr.trimEnd().split('\n').at(-1)).toMatch(/problem\(s\) in config; checks across files .* run once these are fixed$/);
    rmSync(join(configDir, 'clients/broken.yaml'));
    const second = await consulate(['check', '--config', configDir], { env: fixtureEnv() });
    expect(second.code).toBe(1);
    // The duplicate client_id is found by the check across files, which now ran; nothing more is promised.
    expect(second.stderr).toMatch(/clients\/\S+\.yaml:\d+:\d+  client_id  client \S+ is defined twice/);
    expect(second.stderr).not.toContain('run once these are fixed');
  });

  it('runs the fixtures beside a rule set: a failing case is a problem at its file:line:col', async () => {
    const dir = tempDir();
    cpSync(join(root, 'config'), dir, { recursive: true });
    const fixtures = join(dir, 'mappings/contoso.fixtures.yaml');
    writeFileSync(fixtures, readFileSync(fixtures, 'utf8').replace('roles: [admin, engineer]', 'roles: [admin]'));
    const result = await consulate(['check', '--config', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/mappings\/contoso\.fixtures\.yaml:4:3  \[0\]  fixture "alice — verified member of Admins and Engineering" fails: roles: expected \["admin"\], got \["admin","engineer"\]/);
  });

  it('a CEL error in a rule set is a problem at its file:line:col', async () => {
    const dir = tempDir();
    cpSync(join(root, 'config'), dir, { recursive: true });
    const file = join(dir, 'mappings/contoso.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: claims.name', 'name: claims.name.size() +'));
    const result = await consulate(['check', '--config', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/mappings\/contoso\.yaml:\d+:\d+  claims\.name  /);
  });

  it('takes the config directory from CONSULATE_CONFIG_DIR', async () => {
    const { dir, shown } = brokenConfigDir();
    const result = await consulate(['check'], { env: { CONSULATE_CONFIG_DIR: dir } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${shown}:3:1  lisen  unknown key`);
  });

  it('reports a bad environment override (CONSULATE_PORT=notaport) and exits 1', async () => {
    const result = await consulate(['check'], { env: { CONSULATE_PORT: 'notaport' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config\/consulate\.yaml:6:9  listen\.port  .*\(value from CONSULATE_PORT\)$/m);
  });

  it('reports a missing config directory', async () => {
    const missing = join(tempDir(), 'nowhere');
    const result = await consulate(['check', '--config', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${relative(root, join(missing, 'consulate.yaml'))}:1:1  (root)  file not found`);
  });
});

describe('--help', () => {
  it.each([[[]], [['serve']], [['check']], [['keys']], [['keys', 'rotate']], [['keys', 'list']], [['secret']], [['secret', 'generate']], [['secret', 'hash']]])(
    'consulate %j --help exits 0 with usage text',
    async (command: string[]) => {
      const result = await consulate([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: consulate${command.map((word) => ` ${word}`).join('')} `));
      expect(result.stdout).toContain('-h, --help');
    },
  );

  it('documents the overrides of serve', async () => {
    const { stdout } = await consulate(['serve', '--help']);
    for (const option of ['--config <dir>', '--issuer <url>', '--host <host>', '--port <port>', '--data-dir <dir>', '--database-url <url>']) {
      expect(stdout).toContain(option);
    }
  });

  it('lists every command; `help <command>` shows that command in full', async () => {
    const { stdout } = await consulate(['--help']);
    for (const command of ['serve', 'check', 'mapping', 'policy', 'keys', 'secret', 'agent', 'delegation']) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    const keys = await consulate(['help', 'keys']);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toMatch(/^Usage: consulate keys /);
    expect(keys.stdout).toMatch(/^  rotate \[options\] +publish a new signing key/m);
  });

  it('--version prints the version of package.json', async () => {
    const result = await consulate(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('an unknown command exits non-zero and says so', async () => {
    const result = await consulate(['serv']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'serv'");
  });
});

describe('consulate secret', () => {
  it('generate prints a secret and a hash of it', async () => {
    const result = await consulate(['secret', 'generate']);
    expect(result.code).toBe(0);
    const match = /^secret: +(\S+)\nsecret_hash: (sha256:\S+)\n$/.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [, secret, hash] = match as unknown as [string, string, string];
    expect(await verifySecret(secret, hash)).toBe(true);
  });

  it('hash reads a short secret from stdin (without its newline) and prints an scrypt hash', async () => {
    const result = await consulate(['secret', 'hash'], { input: 'post-secret\n' });
    expect(result.code).toBe(0);
    const hash = result.stdout.trimEnd();
    expect(hash).toMatch(/^scrypt:/);
    expect(result.stdout).toBe(`${hash}\n`);
    expect(await verifySecret('post-secret', hash)).toBe(true);
    expect(await verifySecret('post-secret\n', hash)).toBe(false);
  });

  it('hash gives a long secret a sha256 hash', async () => {
    const secret = 'resource-server-secret-0123456789abcdefghijklmno';
    const result = await consulate(['secret', 'hash'], { input: secret });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sha256:\S+\n$/);
    expect(await verifySecret(secret, result.stdout.trimEnd())).toBe(true);
  });

  it('hash with empty stdin exits non-zero and prints no hash', async () => {
    const result = await consulate(['secret', 'hash'], { input: '' });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no secret on standard input');
  });
});

describe('consulate keys', () => {
  const rotated = /^(ES256|RS256)  (\S+)  published now, signs from (\S+)$/;
  const listed = /^(ES256|RS256) +(\S+) +(next|current|retired \(published\)|expired) +(\S+)$/;
  const lines = (text: string) => text.trimEnd().split('\n');

  it('rotate publishes a next key per algorithm; list shows them as next and the first keys as current', async () => {
    const dataDir = tempDir();
    const before = Date.now();
    const rotate = await consulate(['keys', 'rotate', '--activate-in', '60', '--data-dir', dataDir]);
    expect(rotate.code, rotate.stderr).toBe(0);
    const added = lines(rotate.stdout).map((line) => {
      const match = rotated.exec(line);
      expect(match, line).not.toBeNull();
      const [, alg, kid, signsFrom] = match as unknown as [string, string, string, string];
      return { alg, kid, signsFrom: Date.parse(signsFrom) };
    });
    expect(added.map((key) => key.alg)).toEqual(['ES256', 'RS256']);
    for (const key of added) {
      expect(key.signsFrom).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 60_000);
      expect(key.signsFrom).toBeLessThanOrEqual(Date.now() + 60_000);
    }
    expect(readdirSync(dataDir)).toContain('consulate.db');

    const list = await consulate(['keys', 'list', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    const [header, ...rows] = lines(list.stdout);
    expect(header?.split(/ +/)).toEqual(['ALG', 'KID', 'STATE', 'SIGNS', 'FROM']);
    const keys = rows.map((line) => {
      const match = listed.exec(line);
      expect(match, line).not.toBeNull();
      const [, alg, kid, state] = match as unknown as [string, string, string, string];
      return { alg, kid, state };
    });
    expect(keys).toHaveLength(4);
    for (const { alg, kid } of added) {
      expect(keys).toContainEqual({ alg, kid, state: 'next' });
      const current = keys.filter((key) => key.alg === alg && key.state === 'current');
      expect(current).toHaveLength(1);
      expect(current[0]?.kid).not.toBe(kid);
    }
  });

  it('rotate --alg RS256 adds only an RS256 key', async () => {
    const dataDir = tempDir();
    const result = await consulate(['keys', 'rotate', '--alg', 'RS256', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)).toEqual([expect.stringMatching(/^RS256  /)]);
  });

  it('rotate --alg HS256 exits non-zero with a clear message and changes nothing', async () => {
    const dataDir = tempDir();
    const result = await consulate(['keys', 'rotate', '--alg', 'HS256', '--data-dir', dataDir]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown algorithm HS256; use one of ES256, RS256');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it.each(['-5', 'soon'])('rotate --activate-in %s exits non-zero', async (value) => {
    const dataDir = tempDir();
    const result = await consulate(['keys', 'rotate', '--activate-in', value, '--data-dir', dataDir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`option '--activate-in <seconds>' argument '${value}' is invalid. expected a whole number`);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('keys commands report config problems like check does', async () => {
    const { dir, shown } = brokenConfigDir();
    const result = await consulate(['keys', 'list', '--config', dir, '--data-dir', tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${shown}:3:1  lisen  unknown key`);
  });
});

/** Resolves with the "listening" JSON log line `serve` writes to stdout once it accepts requests. */
function listeningLine(child: ChildProcess): Promise<{ url: string; issuer: string }> {
  return logLine(child, 'listening') as Promise<{ url: string; issuer: string }>;
}

/** Resolves with the first JSON log line on stdout whose msg is `msg`. */
function logLine(child: ChildProcess, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${commandTimeoutMs} ms`)), commandTimeoutMs);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) {
        clearTimeout(timer);
        resolveLine(entry);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before logging "${msg}"`));
    });
  });
}

describe('consulate serve', () => {
  it('listens on a free port, answers /healthz, and exits 0 by itself on SIGTERM', async () => {
    const { configDir, dataDir } = makeConfigDir({}, tempDir());
    const child = start(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir], fixtureEnv());
    const exited = finished(child, 30_000);
    try {
      const listening = await listeningLine(child);
      expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(listening.url).not.toBe('http://127.0.0.1:0');
      expect(listening.issuer).toBe(listening.url);

      const response = await fetch(new URL('/healthz', listening.url));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Consulate is running.');
    expect(result.stderr).toContain('SIGTERM: shutting down');
    expect(readdirSync(dataDir)).toContain('consulate.db');
  });

  it('a database out of reach: exit 1 with one line naming it, without the password', async () => {
    const { configDir, dataDir } = makeConfigDir({}, tempDir());
    const url = 'postgres://consulate:s3cret-pw@127.0.0.1:1/consulate';
    const result = await finished(start(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir], { ...fixtureEnv(), CONSULATE_DATABASE_URL: url }), 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cannot reach the database at postgres:\/\/consulate@127\.0\.0\.1:1\/consulate \(password hidden\): .+\n$/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain('s3cret-pw');
  });

  it.skipIf(skipPostgres())('serves on PostgreSQL (--database-url postgres://…): answers /healthz, keys kept in the database', async () => {
    const url = await freshPostgresUrl();
    const { configDir, dataDir } = makeConfigDir({}, tempDir());
    const child = start(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir, '--database-url', url], fixtureEnv());
    const exited = finished(child, 30_000);
    try {
      const listening = await listeningLine(child);
      const response = await fetch(new URL('/healthz', listening.url));
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code).toBe(0);
    expect(existsSync(join(dataDir, 'consulate.db'))).toBe(false);
    const listed = await finished(start(['keys', 'list', '--config', configDir, '--database-url', url], fixtureEnv()));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ES256/);
  });

  it('SIGHUP reloads config/: a client added while running gets tokens (file watching off)', async () => {
    const { configDir, dataDir } = makeConfigDir({ 'consulate.yaml': 'listen: { host: 127.0.0.1, port: 0 }\nreload: { watch: false }\n' }, tempDir());
    const child = start(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir], fixtureEnv());
    const exited = finished(child, 30_000);
    try {
      const { url } = await listeningLine(child);
      const secret = 'sighup-agent-secret-0123456789abcdefghijklmnopqr';
      const token = () =>
        fetch(new URL('/token', url), {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`sighup-agent:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&resource=https%3A%2F%2Fapi.demo.example',
        });
      expect((await token()).status).toBe(401);
      writeFileSync(join(configDir, 'clients/sighup-agent.yaml'), ['client_id: sighup-agent', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: ${hashSecret(secret)}`, 'resources:', '  https://api.demo.example: { scopes: [read-data] }'].join('\n'));
      // Watching is off: nothing changes until the signal.
      await new Promise((r) => setTimeout(r, 300));
      expect((await token()).status).toBe(401);
      const reloaded = logLine(child, 'config reloaded');
      child.kill('SIGHUP');
      expect((await reloaded).trigger).toBe('sighup');
      expect((await token()).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exited).code).toBe(0);
  });

  it('refuses to start on a broken config: exit 1 with the problems', async () => {
    const { dir, shown } = brokenConfigDir();
    const result = await consulate(['serve', '--config', dir, '--port', '0', '--data-dir', tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${shown}:2:9  listen.port`);
  });

  it('a port already in use: exit 1 with one line naming the address and what to change', async () => {
    const busy = createNetServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const { port } = busy.address() as AddressInfo;
    try {
      const { configDir, dataDir } = makeConfigDir({}, tempDir());
      const result = await finished(start(['serve', '--config', configDir, '--port', String(port), '--data-dir', dataDir], fixtureEnv()), 30_000);
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toEqual([`Consulate cannot listen on 127.0.0.1:${port}: the address is already in use (another Consulate, or another program, is listening there); choose another port with --port or CONSULATE_PORT`]);
    } finally {
      busy.close();
    }
  });

  it('--demo with a stand-in IdP port in use: exit 1 with one line naming that stand-in', async () => {
    const busy = createNetServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const { port } = busy.address() as AddressInfo;
    try {
      const upstreamYaml = ['id: okta', 'kind: okta', `issuer: http://127.0.0.1:${port}/oauth2/default`, 'client_id: consulate-demo', 'client_secret: demo-secret-for-the-cli-test-0123'].join('\n');
      const { configDir, dataDir } = makeConfigDir({ 'upstreams/okta.yaml': upstreamYaml }, tempDir());
      const result = await finished(start(['serve', '--demo', '--config', configDir, '--port', '0', '--data-dir', dataDir], { ...fixtureEnv(), CONSULATE_DEMO_API_PORT: '0' }), 30_000);
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('{'));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^could not start the demo: the okta-shaped stand-in upstream IdP cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use .*run a second instance without --demo$`))]);
    } finally {
      busy.close();
    }
  });

  it('warns when a loopback issuer names another port than the one listened on', async () => {
    const { configDir, dataDir } = makeConfigDir({}, tempDir());
    const child = start(['serve', '--config', configDir, '--port', '0', '--data-dir', dataDir, '--issuer', 'http://localhost:1'], fixtureEnv());
    const exited = finished(child, 30_000);
    // The banner (with its warning) is written once the server is up; stop it after that.
    let stderr = '';
    const banner = new Promise<void>((done) => child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()).includes('discovery:') && done()));
    try {
      await banner;
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.stderr).toMatch(/warning: +the issuer names port 1 but this server listens on \d+: .*CONSULATE_ISSUER/);
  });

  it('refuses a --port that is not a number', async () => {
    const result = await consulate(['serve', '--port', 'notaport', '--data-dir', tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("option '--port <port>' argument 'notaport' is invalid. expected a whole number");
  });

  it('--demo starts a stand-in IdP for each loopback upstream, and the login goes to it', async () => {
    const upstreamPort = await freePort();
    const issuer = `http://127.0.0.1:${upstreamPort}/oauth2/default`;
    const upstreamYaml = ['id: okta', 'kind: okta', `issuer: ${issuer}`, 'client_id: consulate-demo', 'client_secret: demo-secret-for-the-cli-test-0123'].join('\n');
    const { configDir, dataDir } = makeConfigDir({ 'upstreams/okta.yaml': upstreamYaml }, tempDir());
    const child = start(['serve', '--demo', '--config', configDir, '--port', '0', '--data-dir', dataDir], { ...fixtureEnv(), CONSULATE_DEMO_API_PORT: '0' });
    const exited = finished(child, 30_000);
    try {
      const [listening, demo, demoApi] = await Promise.all([listeningLine(child), logLine(child, 'demo upstreams started'), logLine(child, 'demo API started')]);
      // The demo resource server is guarded: no Passport, a 401 with both challenges.
      const refused = await fetch(`${demoApi.url}/data`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*DPoP /);
      expect(demo.issuers).toEqual([issuer]);
      const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(((await discovery.json()) as { issuer: string }).issuer).toBe(issuer);
      const login = await fetch(`${listening.url}/login/okta`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      const authorize = new URL(login.headers.get('location') as string);
      expect(authorize.origin).toBe(`http://127.0.0.1:${upstreamPort}`);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${listening.url}/callback/okta`);
      // The stand-in knows Consulate as its client: it starts its own login interaction instead of
      // answering with an error (an unknown client or redirect_uri would be an error page or redirect).
      const interaction = await fetch(authorize, { redirect: 'manual' });
      expect(interaction.status).toBe(303);
      const next = new URL(interaction.headers.get('location') as string, authorize);
      expect(next.origin).toBe(`http://127.0.0.1:${upstreamPort}`);
      expect(next.pathname).toContain('/interaction/');
    } finally {
      child.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Demo upstream IdPs (stand-ins, offline):');
    // Shut down with the server: the stand-in's port is free again.
    await expect(fetch(`${issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });
});
