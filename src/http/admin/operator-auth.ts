// Who calls the admin API: an operator client, with one of our Passports (Bearer, RFC 6750 §2.1, or
// DPoP, RFC 9449 §7) issued for the admin resource (admin.resource, default <issuer>/admin), not
// revoked, not delegated (the operator acts for itself), of a client that is active. Each route then
// needs its own scope (agents:read, keys:write, …): 403 insufficient_scope naming it (RFC 6750 §3.1).
// The operator is the Passport's client_id; receipts name it `operator:<client_id>`.
import type { Context, MiddlewareHandler } from 'hono';
import { allActive } from '../../clients/directory.ts';
import { adminResourceOf, type AdminScope } from '../../config/admin-schema.ts';
import type { Deps } from '../../deps.ts';
import { audienceIs, notDelegated, notRevoked, passportAuth, requireScope } from '../passport-auth.ts';

export function operatorPassport(deps: Deps): MiddlewareHandler {
  return passportAuth(deps, {
    dpop: true,
    rules: [
      audienceIs(() => adminResourceOf(deps.config.main.admin, deps.issuer), 'audience_not_admin'),
      notDelegated,
      notRevoked(deps),
      async (claims) => ((await allActive(deps, [claims.client_id])) ? undefined : 'client_inactive'),
    ],
  });
}

/** A route's scope, checked after operatorPassport. */
export function needs(scope: AdminScope): MiddlewareHandler {
  const check = requireScope(scope, `no_${scope.replace(':', '_')}_scope`);
  return async function needsScope(c, next) {
    const claims = c.get('passportClaims');
    if (claims === undefined) throw new Error('operatorPassport must run before needs()');
    await check(claims, { scheme: 'Bearer', token: '' });
    return next();
  };
}

/** Who made the change, as receipts and runtime state name it. */
export function operatorOf(c: Context): string {
  const claims = c.get('passportClaims');
  if (claims === undefined) throw new Error('operatorPassport must run before this route');
  return `operator:${claims.client_id}`;
}
