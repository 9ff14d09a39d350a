// Starts Consulate: load config → open store → build deps → serve; graceful shutdown on signals.
// The listener binds before the app is built, so port 0 works and the issuer can follow the port.
import { createServer, type Server } from 'node:http';
import { listenOn } from './http/listen.ts';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config/load.ts';
import type { Overrides } from './config/overrides.ts';
import { createDeps, systemClock, type Clock, type Deps } from './deps.ts';
import { createOperatorApp } from './http/operator-routes.ts';
import { instrumentStore } from './metrics/instrument-store.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createLogger, type Logger } from './log.ts';
import { createReloader } from './reload.ts';
import { databaseUrlFor, isPostgresUrl, openStore } from './store/open.ts';
import type { Store, StoreObserver } from './store/ports.ts';
import { startTracing } from './tracing/start.ts';
import { startTransmitter, type Transmitter } from './ssf/transmitter.ts';
import { traceStore } from './tracing/store.ts';

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
  /** The separate listener of /metrics and /status (metrics.listen), when there is one. */
  metricsUrl?: string;
  /** The deps and config in force right now (a reload replaces them). */
  readonly deps: Deps;
  readonly config: Config;
  /** Loads config/ again (as SIGHUP and the file watch do); true when the new config is in force. */
  reload(trigger?: string): Promise<boolean>;
  close(): Promise<void>;
};

/** The store the config names, with its database settings (pool size, statement timeout); `observer` for metrics. */
export function openConfiguredStore(config: Config, observer?: StoreObserver): Promise<Store> {
  const { pool_size, statement_timeout_ms, busy_timeout_ms } = config.main.database;
  return openStore(databaseUrlFor(config.main.data_dir, config.main.database_url), { poolSize: pool_size, statementTimeoutMs: statement_timeout_ms, busyTimeoutMs: busy_timeout_ms, observer });
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = loadConfig(options.configDir, { env: options.env, overrides: options.overrides });
  const log = options.log ?? createLogger(config.main.log.level);
  // One registry for the process's life: reloads hand it on, as they do the keyring and the limiters.
  const metrics = createMetrics({ startedAt: (options.now ?? systemClock)() });
  const store = instrumentStore(await openConfiguredStore(config, metrics.storeObserver), metrics);

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
    await listenOn(server, config.main.listen.port, config.main.listen.host, 'Consulate');
  } catch (error) {
    await store.close();
    throw error;
  }
  let operator: { server: Server; url: string } | undefined;
  try {
    operator = config.main.metrics.listen ? await listenOperator(config.main.metrics.listen, http) : undefined;
  } catch (error) {
    server.close();
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.main.listen.host.includes(':') ? `[${config.main.listen.host}]` : config.main.listen.host;
  const url = `http://${host}:${port}`;
  const issuer = config.main.issuer ?? url;

  let shuttingDown = false;
  // Traces, configured by OTEL_* alone (docs/operators/tracing.md); off, `traced` is `store` itself.
  const tracing = await startTracing(log);
  const traced = traceStore(store, isPostgresUrl(config.main.database_url ?? '') ? 'postgresql' : 'sqlite');
  let deps: Deps;
  // SSF (read at start): the transmitter feeds receipts into streams; each receipt this node commits wakes it.
  let transmitter: Transmitter | undefined;
  const onReceipt = config.main.ssf.enabled ? () => transmitter?.nudge() : undefined;
  try {
    deps = await createDeps({ config, issuer, store: traced, log, metrics, onReceipt, ...(options.now ? { now: options.now } : {}) });
  } catch (error) {
    server.close();
    operator?.server.close();
    await store.close();
    await tracing.shutdown();
    throw error;
  }
  // Each request is served start to end by one app and its deps: a reload swaps the listener.
  const operatorListener = operator !== undefined;
  if (config.main.ssf.enabled) transmitter = startTransmitter(() => deps, log);
  const ssfTransmitter = transmitter;
  let listener = getRequestListener(createApp(deps, { isShuttingDown: () => shuttingDown, configStatus: () => reloader.status(), operatorListener, ssfTransmitter }).fetch);
  server.on('request', (req, res) => void listener(req, res));
  if (operator) operator.server.on('request', getRequestListener(createOperatorApp(() => deps, () => reloader.status(), log).fetch));
  const reloader = createReloader({
    configDir: options.configDir,
    env: options.env,
    overrides: options.overrides,
    log,
    current: () => deps.config,
    onAttempt: (outcome) => metrics.configReload(outcome),
    async apply(next, trigger) {
      const nextDeps = await createDeps({ config: next, issuer, store: traced, log, keyring: deps.keyring, limiters: deps.limiters, metrics, onReceipt, ...(options.now ? { now: options.now } : {}) });
      const nextListener = getRequestListener(createApp(nextDeps, { isShuttingDown: () => shuttingDown, configStatus: () => reloader.status(), operatorListener, ssfTransmitter }).fetch);
      await nextDeps.receipts.record({ event: 'config.reloaded', details: { trigger, clients: next.clients.size, resources: next.resources.size, upstreams: next.upstreams.size } });
      deps = nextDeps;
      listener = nextListener;
    },
  });
  // One store after another (the SQLite store deletes a chunk per turn): a backlog of expired rows
  // slows requests down a little for a while rather than stopping them. A purge still running skips
  // the next tick.
  let purging = false;
  const purge = setInterval(() => {
    if (purging) return;
    purging = true;
    const now = deps.now();
    const stores = [store.replay, store.revocations, store.logins, store.authorizations, store.families, store.delegations, store.approvals, store.pats];
    void (async () => {
      for (const expiring of stores) await expiring.purgeExpired(now).catch((err: unknown) => log.warn({ err }, 'purge failed'));
      purging = false;
    })();
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
      // Its running round finishes before the store closes under it.
      await transmitter?.close();
      if (operator) {
        const { server: operatorServer } = operator;
        await new Promise<void>((resolveClose) => {
          operatorServer.close(() => resolveClose());
          operatorServer.closeAllConnections();
        });
      }
      await store.close();
      await tracing.shutdown(); // flushes the last spans
      log.info('stopped');
    })());

  log.info({ issuer, url, ...(operator ? { metrics_url: operator.url } : {}) }, 'listening');
  return {
    issuer,
    url,
    port,
    ...(operator ? { metricsUrl: operator.url } : {}),
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

/** The listener of /metrics and /status alone (metrics.listen is host:port), with the main one's timeouts. */
async function listenOperator(address: string, http: Config['main']['http']): Promise<{ server: Server; url: string }> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const server = createServer({ requestTimeout: http.request_timeout_ms, headersTimeout: Math.min(http.headers_timeout_ms, http.request_timeout_ms), keepAliveTimeout: http.keep_alive_timeout_ms });
  await listenOn(server, Number(address.slice(colon + 1)), host, 'The metrics listener (metrics.listen)');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
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
