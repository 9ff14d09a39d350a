// createApp(deps): the Hono application. No I/O at import time; everything comes through deps.
import { Hono } from 'hono';
import type { Deps } from './deps.ts';
import type { ConfigStatus } from './reload.ts';
import { createRequestLog } from './log.ts';
import { startAnswer } from './http/common-headers.ts';
import { createErrorHandler, notFound } from './http/errors.ts';
import { authorizeRoutes } from './http/authorize-routes.tsx';
import { accountRoutes } from './http/account-routes.tsx';
import { sameOriginForms } from './http/same-origin.ts';
import { logoutRoutes } from './http/logout-routes.tsx';
import { healthRoutes } from './http/health-routes.ts';
import { receiptsRoutes } from './http/receipts-routes.ts';
import { loginRoutes } from './http/login-routes.tsx';
import { metadataRoutes } from './http/metadata-routes.ts';
import { oauthRoutes } from './http/oauth-routes.ts';
import { userinfoRoutes } from './http/userinfo-routes.ts';
import { parRoutes } from './http/par-routes.ts';
import { usageRoutes } from './http/usage-routes.ts';
import { registrationRoutes } from './http/registration-routes.ts';
import { approvalsRoutes } from './http/approvals-routes.tsx';
import { adminFormPaths, adminPaths, approvalsPath, authorizePaths, devicePaths, endSessionPath } from './http/paths.ts';
import { cibaRoutes } from './http/ciba-routes.ts';
import { deviceRoutes } from './http/device-routes.tsx';
import { createBrand, stylesheetRoutes } from './http/branding.ts';
import { traceRequests } from './http/trace-requests.ts';
import { tracingEnabled } from './tracing/spans.ts';
import { operatorRoutes } from './http/operator-routes.ts';
import { ssfRoutes } from './http/ssf-routes.ts';
import { answeredRoute, lazyRoutes } from './http/lazy-routes.ts';
import type { Transmitter } from './ssf/transmitter.ts';

/** `operatorListener`: /metrics and /status are served on their own listener (metrics.listen), not here. */
export function createApp(deps: Deps, options: { isShuttingDown?: () => boolean; configStatus?: () => ConfigStatus; operatorListener?: boolean; ssfTransmitter?: Transmitter } = {}): Hono {
  const app = new Hono();
  // A server span per request, first so it covers the rest; not even registered while tracing is off.
  if (tracingEnabled()) app.use(traceRequests());
  const requestLog = createRequestLog(deps.log);
  // The operator's branding on every page, and its stylesheet (a reload builds a new app: a new brand).
  const brand = createBrand(deps.config.main.branding);
  app.use(async (c, next) => {
    const started = performance.now();
    // Headers set before next(): a header set on a finished response makes Hono copy the whole response.
    startAnswer(c);
    // Pages read it from the context; set here rather than in a middleware of its own (one layer
    // less on every request, the token endpoint included).
    c.set('brand', brand);
    await next();
    const ms = performance.now() - started;
    // The matched route pattern (`/callback/:upstream`, `*` when none matched), never the raw path.
    deps.metrics.httpRequest(answeredRoute(c), c.req.method, c.res.status, ms / 1000);
    requestLog.info({ req_id: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(ms * 10) / 10 }, 'request');
  });
  app.onError(createErrorHandler(deps.log));
  app.notFound(notFound);
  app.route('/', stylesheetRoutes(brand));
  const forms = sameOriginForms(deps.issuer);
  for (const path of ['/login', '/logout', authorizePaths.consent, `${authorizePaths.account}/*`, `${approvalsPath}/:id`, devicePaths.verify, devicePaths.decide, `${endSessionPath}/confirm`, ...adminFormPaths]) app.use(path, forms);
  app.route('/', metadataRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', userinfoRoutes(deps));
  app.route('/', parRoutes(deps));
  app.route('/', cibaRoutes(deps));
  app.route('/', usageRoutes(deps));
  app.route('/', registrationRoutes(deps));
  app.route('/', loginRoutes(deps));
  app.route('/', authorizeRoutes(deps));
  app.route('/', accountRoutes(deps));
  app.route('/', deviceRoutes(deps));
  app.route('/', logoutRoutes(deps));
  app.route('/', approvalsRoutes(deps));
  app.route('/', receiptsRoutes(deps));
  // ssf.enabled is read at start: the server passes the transmitter it started (or undefined); a bare app follows its config.
  if ('ssfTransmitter' in options ? options.ssfTransmitter !== undefined : deps.config.main.ssf.enabled) app.route('/', ssfRoutes(deps, { transmitter: options.ssfTransmitter, isShuttingDown: options.isShuttingDown }));
  // The admin API (/admin/v1) and page (/admin), read at each app build: a reload that turns them off
  // removes them. Loaded on the first request under /admin (lazy-routes.ts): most servers never serve one.
  if (deps.config.main.admin.enabled) app.all(`${adminPaths.page}/*`, lazyRoutes(() => adminRoutes(deps, options.configStatus)));
  app.route('/', healthRoutes(deps, options.isShuttingDown ?? (() => false), options.configStatus));
  if (!options.operatorListener) app.route('/', operatorRoutes(() => deps, options.configStatus));
  return app;
}

/** The admin API and page as one app, for lazyRoutes. */
async function adminRoutes(deps: Deps, configStatus?: () => ConfigStatus): Promise<Hono> {
  const [{ adminApi }, { adminPage }] = await Promise.all([import('./http/admin/routes.ts'), import('./http/admin-page.tsx')]);
  return new Hono().route('/', adminApi(deps, configStatus)).route('/', adminPage(deps, configStatus));
}
