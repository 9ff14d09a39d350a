// Starts Consulate: load config → open store → build deps → serve; graceful shutdown on signals.
// The listener binds before the app is built, so port 0 works and the issuer can follow the port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config/load.ts';
import type { Overrides } from './config/overrides.ts';
import { createDeps, type Clock, type Deps } from './deps.ts';
import { createLogger, type Logger } from './log.ts';
import { createReloader } from './reload.ts';
import { databaseUrlFor, openStore } from './store/open.ts';
import type { Store } from './store/ports.ts';

export type StartOptions = {
  configDir: string;
  overrides?: Overrides;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  now?: Clock;
};

export type RunningServer = {
  issuer: string;
  url: string;
  port: number;
  /** The deps and config in force right now (a reload replaces them). */
  readonly deps: Deps;
  readonly config: Config;
  /** Loads config/ again (as SIGHUP and the file watch do); true when the new config is in force. */
  reload(trigger?: string): Promise<boolean>;
  close(): Promise<void>;
};

/** The store the config names, with its database settings (pool size, statement timeout). */
export function openConfiguredStore(config: Config): Promise<Store> {
  const { pool_size, statement_timeout_ms, busy_timeout_ms } = config.main.database;
  return openStore(databaseUrlFor(config.main.data_dir, config.main.database_url), { poolSize: pool_size, statementTimeoutMs: statement_timeout_ms, busyTimeoutMs: busy_timeout_ms });
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = loadConfig(options.configDir, { env: options.env, overrides: options.overrides });
  const log = options.log ?? createLogger(config.main.log.level);
  const store = await openConfiguredStore(config);

  const { http } = config.main;
  // Node checks these timeouts every connectionsCheckingInterval (30 s by default): check each second.
  const server = createServer({
    requestTimeout: http.request_timeout_ms,
    headersTimeout: Math.min(http.headers_timeout_ms, http.request_timeout_ms),
    keepAliveTimeout: http.keep_alive_timeout_ms,
    connectionsCheckingInterval: 1000,
  });
  limitConnectionsPerAddress(server, http.max_connections_per_address);
  try {
    await listen(server, config.main.listen.port, config.main.listen.host);
  } catch (error) {
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.main.listen.host.includes(':') ? `[${config.main.listen.host}]` : config.main.listen.host;
  const url = `http://${host}:${port}`;
  const issuer = config.main.issuer ?? url;

  let shuttingDown = false;
  let deps: Deps;
  try {
    deps = await createDeps({ config, issuer, store, log, ...(options.now ? { now: options.now } : {}) });
  } catch (error) {
    server.close();
    await store.close();
    throw error;
  }
  // Each request is served start to end by one app and its deps: a reload swaps the listener.
  let listener = getRequestListener(createApp(deps, { isShuttingDown: () => shuttingDown, configStatus: () => reloader.status() }).fetch);
  server.on('request', (req, res) => void listener(req, res));
  const reloader = createReloader({
    configDir: options.configDir,
    env: options.env,
    overrides: options.overrides,
    log,
    current: () => deps.config,
    async apply(next, trigger) {
      const nextDeps = await createDeps({ config: next, issuer, store, log, keyring: deps.keyring, limiters: deps.limiters, ...(options.now ? { now: options.now } : {}) });
      const nextListener = getRequestListener(createApp(nextDeps, { isShuttingDown: () => shuttingDown, configStatus: () => reloader.status() }).fetch);
      await nextDeps.receipts.record({ event: 'config.reloaded', details: { trigger, clients: next.clients.size, resources: next.resources.size, upstreams: next.upstreams.size } });
      deps = nextDeps;
      listener = nextListener;
    },
  });
  const purge = setInterval(() => {
    const now = deps.now();
    Promise.all([store.replay.purgeExpired(now), store.revocations.purgeExpired(now), store.logins.purgeExpired(now), store.authorizations.purgeExpired(now), store.families.purgeExpired(now), store.delegations.purgeExpired(now), store.approvals.purgeExpired(now)]).catch((err) => log.warn({ err }, 'purge failed'));
  }, 60_000);
  purge.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      clearInterval(purge);
      reloader.close();
      await new Promise<void>((resolveClose) => {
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolveClose();
        });
        server.closeIdleConnections();
      });
      await store.close();
      log.info('stopped');
    })());

  log.info({ issuer, url }, 'listening');
  return {
    issuer,
    url,
    port,
    get deps() {
      return deps;
    },
    get config() {
      return deps.config;
    },
    reload: (trigger = 'api') => reloader.reload(trigger),
    close,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
}

/** One source address holds at most `max` open connections; more are closed as they arrive. */
function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
