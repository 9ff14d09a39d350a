// The operator's endpoints: GET /metrics (Prometheus text format) and GET /status (JSON: how the
// config stands, with the last reload's time, outcome and problems). On the main listener, or on
// their own one (metrics.listen). With metrics.token set (or CONSULATE_METRICS_TOKEN) both require
// `Authorization: Bearer <token>`, compared in constant time; otherwise 401 with WWW-Authenticate.
// The token is read from the config in force, so a reload can change it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.ts';
import type { Logger } from '../log.ts';
import { metricsContentType, scrapeMetrics } from '../metrics/scrape.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { ConfigStatus } from '../reload.ts';
import { createErrorHandler, notFound } from './errors.ts';
import { configFields } from './health-routes.ts';
import { noStoreJson, oauthErrorResponse } from './respond.ts';
import { formatChallenge } from '../oauth/www-authenticate.ts';

export const operatorPaths = { metrics: '/metrics', status: '/status' } as const;

export function operatorRoutes(current: () => Deps, configStatus?: () => ConfigStatus): Hono {
  const app = new Hono();
  const refused = (c: Context) => {
    const token = current().config.main.metrics.token;
    if (token === undefined) return undefined;
    const given = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (given !== undefined && sameSecret(given, token)) return undefined;
    // RFC 6750 §3.1: no error code when no credentials came at all.
    const challenge = formatChallenge('Bearer', [['realm', 'consulate'], ...(given === undefined ? [] : [['error', 'invalid_token'] as const])]);
    return oauthErrorResponse(c, new OAuthError('invalid_token', 'a valid bearer token is required', { headers: { 'WWW-Authenticate': challenge } }));
  };

  app.get(operatorPaths.metrics, async (c) => {
    const deps = current();
    if (!deps.config.main.metrics.enabled) return notFound(c);
    const denied = refused(c);
    if (denied) return denied;
    const text = await scrapeMetrics(deps.metrics, { store: deps.store, now: deps.now(), configStatus: configStatus?.() }, (err) =>
      deps.log.warn({ err }, 'metrics: the approval counts could not be read'),
    );
    c.header('Cache-Control', 'no-store');
    c.header('Content-Type', metricsContentType);
    return c.body(text, 200);
  });

  app.get(operatorPaths.status, (c) => {
    const denied = refused(c);
    if (denied) return denied;
    const status = configStatus?.();
    const fields = configFields(status);
    const errors = status?.lastReload?.errors;
    const config = fields.config && errors ? { ...fields.config, last_reload: { ...fields.config.last_reload, errors } } : fields.config;
    return noStoreJson(c, { status: config?.stale ? 'config_stale' : 'ok', issuer: current().issuer, ...(config ? { config } : {}) });
  });
  return app;
}

/** The app of a separate operator listener (metrics.listen): these two endpoints and nothing else. */
export function createOperatorApp(current: () => Deps, configStatus: () => ConfigStatus, log: Logger): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(log));
  app.notFound(notFound);
  app.route('/', operatorRoutes(current, configStatus));
  return app;
}

/** Equal, in time independent of where they differ and of their lengths (both hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
