// Starts a real Consulate on 127.0.0.1:0 with a temporary config directory and SQLite file.
// The fixture config lives in test/fixtures/config; tests add or replace files per case.
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { hashSecret } from '../../../src/clients/secrets.ts';
import { createLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/main.ts';

export const secrets = {
  'agent-basic': 'basic-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  'agent-post': 'post-secret',
  'demo-api': 'resource-server-secret-0123456789abcdefghijklmno',
  'reports-api': 'reports-server-secret-0123456789abcdefghijklmnop',
  'web-app': 'web-app-secret-0123456789abcdefghijklmnopqrstuvwxyz',
} as const;

export const fixtureEnv = (): NodeJS.ProcessEnv => ({
  AGENT_BASIC_SECRET_HASH: hashSecret(secrets['agent-basic']),
  AGENT_POST_SECRET_HASH: hashSecret(secrets['agent-post']),
  DEMO_API_SECRET_HASH: hashSecret(secrets['demo-api']),
  REPORTS_API_SECRET_HASH: hashSecret(secrets['reports-api']),
  WEB_APP_SECRET_HASH: hashSecret(secrets['web-app']),
});

export type TestConsulate = RunningServer & {
  dir: string;
  configDir: string;
  dataDir: string;
  /** Every log line the server wrote, as parsed JSON. */
  logs: Record<string, unknown>[];
  rawLogs: () => string;
  /** Stops the server; `keepData` leaves the directory for a restart. */
  stop(options?: { keepData?: boolean }): Promise<void>;
};

export function makeConfigDir(files: Record<string, string> = {}, base?: string): { dir: string; configDir: string; dataDir: string } {
  const dir = base ?? mkdtempSync(join(tmpdir(), 'consulate-test-'));
  const configDir = join(dir, 'config');
  cpSync(resolve(import.meta.dirname, '../../fixtures/config'), configDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(configDir, name)), { recursive: true });
    writeFileSync(join(configDir, name), text);
  }
  return { dir, configDir, dataDir: join(dir, 'data') };
}

export async function startConsulate(
  options: { files?: Record<string, string>; dir?: string; env?: NodeJS.ProcessEnv; now?: () => number; reuseConfig?: boolean; issuer?: string; port?: number } = {},
): Promise<TestConsulate> {
  const paths = options.reuseConfig && options.dir
    ? { dir: options.dir, configDir: join(options.dir, 'config'), dataDir: join(options.dir, 'data') }
    : makeConfigDir(options.files, options.dir);
  let raw = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const log = createLogger('debug', sink);
  const server = await startServer({
    configDir: paths.configDir,
    env: { ...fixtureEnv(), ...options.env },
    overrides: { dataDir: paths.dataDir, port: options.port ?? 0, ...(options.issuer ? { issuer: options.issuer } : {}) },
    log,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    issuer: server.issuer,
    url: server.url,
    port: server.port,
    ...(server.metricsUrl ? { metricsUrl: server.metricsUrl } : {}),
    // Getters, not copies: a reload replaces the server's deps and config.
    get deps() {
      return server.deps;
    },
    get config() {
      return server.config;
    },
    reload: (trigger?: string) => server.reload(trigger),
    close: () => server.close(),
    ...paths,
    get logs() {
      return raw.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    rawLogs: () => raw,
    async stop(stopOptions = {}) {
      await server.close();
      if (!stopOptions.keepData) rmSync(paths.dir, { recursive: true, force: true });
    },
  };
}
