// `consulate check` warns about weak secrets the config holds in plain text (issue 17 §2): an
// upstream's client_secret written in the YAML or given by ${env:NAME}, the approvals webhook key;
// never about hashed client secrets (they cannot be measured). A warning does not fail the check.
// Runs the compiled CLI: `npm run build` first.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { consulateCommand } from './support/cli.ts';

const root = resolve(import.meta.dirname, '../..');
const weak = { okta: 'Summer2024!', auth0: 'hunter2hunter2', hook: 'aaaaaaaaaaaaaaaa' };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function check(dir: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CONSULATE_')));
  const [command, args] = consulateCommand(['check', '--config', dir]);
  return new Promise((done) => {
    execFile(command, args, { cwd: root, env: { ...base, ...env }, timeout: 15_000 }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
  });
}

/** The demo config with weak secrets put in: one written in the YAML, two through ${env:NAME}; and a short secret's scrypt hash. */
function weakConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-check-secrets-'));
  dirs.push(dir);
  cpSync(join(root, 'config'), dir, { recursive: true });
  const edit = (file: string, change: (text: string) => string) => writeFileSync(join(dir, file), change(readFileSync(join(dir, file), 'utf8')));
  edit('upstreams/okta.yaml', (text) => text.replace(/^client_secret: .*$/m, `client_secret: ${weak.okta}`));
  edit('upstreams/auth0.yaml', (text) => text.replace(/^client_secret: .*$/m, 'client_secret: ${env:AUTH0_SECRET}'));
  edit('consulate.yaml', (text) => `${text}approvals:\n  webhook:\n    url: https://hooks.example.test/consulate\n    secret: \${env:HOOK_KEY}\n`);
  const hashed = hashSecret('short');
  expect(hashed).toMatch(/^scrypt:/);
  writeFileSync(join(dir, 'clients/short-secret.yaml'), ['client_id: short-secret', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: "${hashed}"`, 'resources:', '  https://api.demo.example:', '    scopes: [read-data]', ''].join('\n'));
  return dir;
}

describe('consulate check: weak plain-text secrets', () => {
  it('warns at file:line:col for each, without the secret, and still exits 0', async () => {
    const dir = weakConfig();
    const shown = (file: string) => relative(root, join(dir, file));
    const result = await check(dir, { AUTH0_SECRET: weak.auth0, HOOK_KEY: weak.hook });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^config OK: 8 client\(s\)/);
    const advice = 'bits of entropy (estimated from its length and kinds of characters); use a random one of at least 128 bits, e.g. from `openssl rand -base64 32`';
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `${shown('upstreams/auth0.yaml')}:8:16  client_secret  weak secret: at most 72 ${advice}`,
      `${shown('upstreams/okta.yaml')}:8:16  client_secret  weak secret: at most 72 ${advice}`,
      `${shown('consulate.yaml')}:${readFileSync(join(dir, 'consulate.yaml'), 'utf8').split('\n').findIndex((line) => line.includes('${env:HOOK_KEY}')) + 1}:13  approvals.webhook.secret  weak secret: at most 75 ${advice}`,
      '3 warning(s) in config',
    ]);
    for (const secret of Object.values(weak)) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('says nothing of strong secrets, given in the YAML or through ${env:NAME}', async () => {
    const dir = weakConfig();
    writeFileSync(join(dir, 'upstreams/okta.yaml'), readFileSync(join(root, 'config/upstreams/okta.yaml'), 'utf8'));
    const result = await check(dir, { AUTH0_SECRET: 'K7vQ2mX9pL4wR8tZ1nB6yH3cF5jD0sGa', HOOK_KEY: 'correct horse battery staple' });
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^config OK: 8 client\(s\)/), stderr: '' });
  });
});
