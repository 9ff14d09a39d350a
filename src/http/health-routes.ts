// Liveness (the process answers) and readiness (database reachable, a signing key available,
// not shutting down).
import { Hono } from 'hono';
import type { Deps } from '../deps.ts';

export function healthRoutes(deps: Deps, isShuttingDown: () => boolean): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (isShuttingDown()) return c.json({ status: 'shutting_down' }, 503);
    try {
      await deps.store.ping();
      await deps.keyring.signingKey(deps.config.main.passports.signing_alg, deps.now());
      return c.json({ status: 'ready' });
    } catch (error) {
      deps.log.warn({ err: error }, 'not ready');
      return c.json({ status: 'not_ready' }, 503);
    }
  });
  return app;
}
