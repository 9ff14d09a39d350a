// createApp(deps): the Hono application. No I/O at import time; everything comes through deps.
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Deps } from './deps.ts';
import type { ConfigStatus } from './reload.ts';
import { createRequestLog } from './log.ts';
import { createErrorHandler, notFound } from './http/errors.ts';
import { authorizePaths, authorizeRoutes } from './http/authorize-routes.tsx';
import { sameOriginForms } from './http/same-origin.ts';
import { endSessionPath, logoutRoutes } from './http/logout-routes.tsx';
import { healthRoutes } from './http/health-routes.ts';
import { loginRoutes } from './http/login-routes.tsx';
import { metadataRoutes } from './http/metadata-routes.ts';
import { oauthRoutes } from './http/oauth-routes.ts';
import { userinfoRoutes } from './http/userinfo-routes.ts';
import { parRoutes } from './http/par-routes.ts';
import { usageRoutes } from './http/usage-routes.ts';
import { registrationRoutes } from './http/registration-routes.ts';
import { approvalsPath, approvalsRoutes } from './http/approvals-routes.tsx';
import { cibaRoutes } from './http/ciba-routes.ts';
import { devicePaths, deviceRoutes } from './http/device-routes.tsx';

export function createApp(deps: Deps, options: { isShuttingDown?: () => boolean; configStatus?: () => ConfigStatus } = {}): Hono {
  const app = new Hono();
  const requestLog = createRequestLog(deps.log);
  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    // Set before next(): a header set on a finished response makes Hono copy the whole response.
    c.header('X-Content-Type-Options', 'nosniff');
    await next();
    requestLog.info(
      { req_id: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10 },
      'request',
    );
  });
  app.onError(createErrorHandler(deps.log));
  app.notFound(notFound);
  const forms = sameOriginForms(deps.issuer);
  for (const path of ['/login', '/logout', authorizePaths.consent, `${authorizePaths.account}/*`, `${approvalsPath}/:id`, devicePaths.verify, devicePaths.decide, `${endSessionPath}/confirm`]) app.use(path, forms);
  app.route('/', metadataRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', userinfoRoutes(deps));
  app.route('/', parRoutes(deps));
  app.route('/', cibaRoutes(deps));
  app.route('/', usageRoutes(deps));
  app.route('/', registrationRoutes(deps));
  app.route('/', loginRoutes(deps));
  app.route('/', authorizeRoutes(deps));
  app.route('/', deviceRoutes(deps));
  app.route('/', logoutRoutes(deps));
  app.route('/', approvalsRoutes(deps));
  app.route('/', healthRoutes(deps, options.isShuttingDown ?? (() => false), options.configStatus));
  return app;
}
