// The admin API, /admin/v1: one OpenAPIHono app whose routes are declared with zod schemas that both
// validate requests and make the OpenAPI 3.1 document served at /admin/v1/openapi.json. Every route
// but the document needs an operator client's Passport (operator-auth.ts) and its own scope; errors
// are RFC 9457 problem details (problem.ts). Changes go through the same services as the CLI.
import { OpenAPIHono } from '@hono/zod-openapi';
import { adminResourceOf, adminScopes } from '../../config/admin-schema.ts';
import type { Deps } from '../../deps.ts';
import type { ConfigStatus } from '../../reload.ts';
import { agentRoutes } from './agents.ts';
import { approvalRoutes } from './approvals.ts';
import { delegationRoutes } from './delegations.ts';
import { keyAndConfigRoutes } from './keys-config.ts';
import { operatorPassport } from './operator-auth.ts';
import { adminPaths } from '../paths.ts';
import { adminErrorHandler, problemResponse, validationProblem } from './problem.ts';
import { peopleRoutes } from './people.ts';
import { receiptRoutes } from './receipts.ts';
import { securityScheme } from './schemas.ts';

export const adminApiBase = adminPaths.api;
export const openApiPath = '/openapi.json';

/** The admin API's routes under `adminApiBase` (the document included). */
export function adminApi(deps: Deps, configStatus?: () => ConfigStatus): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: (result, c) => (result.success ? undefined : problemResponse(c, validationProblem(result.error))) }).basePath(adminApiBase);
  app.onError(adminErrorHandler(deps.log));
  app.openAPIRegistry.registerComponent('securitySchemes', securityScheme, {
    type: 'oauth2',
    description: `A Passport of this Consulate for the admin resource ${adminResourceOf(deps.config.main.admin, deps.issuer)}, as Bearer (RFC 6750) or DPoP (RFC 9449), obtained by an operator client with client credentials.`,
    flows: { clientCredentials: { tokenUrl: `${deps.issuer.replace(/\/$/, '')}/token`, scopes: Object.fromEntries(adminScopes.map((scope) => [scope, scopeWords(scope)])) } },
  });
  app.doc31(openApiPath, {
    openapi: '3.1.0',
    info: { title: 'Consulate admin API', version: '1', description: 'Runtime management of Consulate: agents, delegations, approvals, receipts, keys, config status. Changes are runtime state in the database and receipts naming the operator.' },
    servers: [{ url: deps.issuer.replace(/\/$/, '') }],
  });
  const auth = operatorPassport(deps);
  app.use('/*', async (c, next) => (c.req.path === `${adminApiBase}${openApiPath}` ? next() : auth(c, next)));
  agentRoutes(app, deps);
  delegationRoutes(app, deps);
  approvalRoutes(app, deps);
  receiptRoutes(app, deps);
  keyAndConfigRoutes(app, deps, configStatus);
  peopleRoutes(app, deps);
  // Last: anything else under /admin/v1 is a problem document too (the app's notFound is not the sub-app's).
  app.all('/*', (c) => problemResponse(c, { status: 404, title: 'Not Found', detail: 'no such admin API operation' }));
  return app;
}

function scopeWords(scope: string): string {
  const [thing, access] = scope.split(':');
  return `${access === 'write' ? 'Change' : 'Read'} ${thing}`;
}
