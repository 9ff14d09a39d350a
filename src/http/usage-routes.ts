// Usage endpoint for resource servers: POST /delegations/usage reports what a call made with a
// delegated Passport cost, against the delegation's budget. Not a standard endpoint (Consulate's own).
// Request (application/x-www-form-urlencoded), with the same client authentication as introspection:
//   token      the Passport (required)
//   uses       non-negative integer, default 1
//   amount     decimal string ("12.50", at most 6 decimals), with
//   currency   ISO 4217 code, equal to the budget's (a delegation without an amount budget takes none)
//   usage_id   optional, 1–128 visible ASCII characters: the same caller's repeat is counted once
// Answers (Cache-Control: no-store):
//   200 { "active": true, "budget_remaining": {...} }  counted (or counted before, same usage_id)
//   200 { "active": false }   not counted: the token is invalid, expired, revoked, of a revoked or
//                             expired delegation, of an inactive agent, or the caller may not
//                             introspect its audience (all alike, as introspection answers them)
//   403 budget_exceeded       the usage would go past the budget, or it is spent; nothing counted
//   400 invalid_request       malformed or missing parameters, currency not the budget's, no did
//   401 invalid_client        client authentication failed
//   405 method_not_allowed    anything but POST
import { Hono } from 'hono';
import { parseUsageReport, reportUsage } from '../delegation/usage.ts';
import type { Deps } from '../deps.ts';
import { methodNotAllowed } from './errors.ts';
import { clientAuth } from './client-auth.ts';
import { noStoreJson } from './respond.ts';
import { usagePath } from './paths.ts';

export function usageRoutes(deps: Deps): Hono {
  const app = new Hono();
  // 1 read the form and authenticate the caller (clientAuth)  2 parse the report  3 count it.
  app.post(usagePath, clientAuth(deps), async (c) => noStoreJson(c, await reportUsage(deps, c.get('client'), parseUsageReport(c.get('form')))));
  app.all(usagePath, methodNotAllowed('POST'));
  return app;
}
