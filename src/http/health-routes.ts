// Liveness (the process answers, never touching the database) and readiness (database reachable, a
// signing key available, not shutting down). Readiness also tells how the config stands: when the
// config in force was loaded and how the last reload went, so a refused reload (a broken file left
// in config/) is seen by whoever watches /readyz, not only in the log. Problems' text stays in the log.
import { Hono } from 'hono';
import type { Deps } from '../deps.ts';
import type { ConfigStatus } from '../reload.ts';

export function healthRoutes(deps: Deps, isShuttingDown: () => boolean, configStatus?: () => ConfigStatus): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (isShuttingDown()) return c.json({ status: 'shutting_down' }, 503);
    try {
      await deps.store.ping();
      await deps.keyring.signingKey(deps.config.main.passports.signing_alg, deps.now());
      return c.json({ status: 'ready', ...configFields(configStatus?.()) });
    } catch (error) {
      deps.log.warn({ err: error }, 'not ready');
      return c.json({ status: 'not_ready' }, 503);
    }
  });
  return app;
}

/** The config's state for /readyz (and /status): `config.stale` is true while the last reload was refused or failed. */
export function configFields(status: ConfigStatus | undefined) {
  if (!status) return {};
  const last = status.lastReload;
  return {
    config: {
      loaded_at: status.loadedAt,
      stale: last !== undefined && last.outcome !== 'applied',
      ...(last ? { last_reload: { at: last.at, trigger: last.trigger, outcome: last.outcome, ...(last.problems === undefined ? {} : { problems: last.problems }) } } : {}),
    },
  };
}
