// Who calls the SSF endpoints: a receiver, authenticated with one of our Passports as a Bearer token
// (RFC 6750 §2.1) issued for the SSF resource (ssf.resource, default <issuer>/ssf), carrying scope
// `ssf`, not revoked, not delegated (the receiver acts for itself), not DPoP-bound (no proof is
// checked here), of a client that is active. The receiver is the Passport's client_id. Errors are
// RFC 6750 §3 challenges that do not say which check failed (the reason goes to the log).
import type { Context, MiddlewareHandler } from 'hono';
import { allActive } from '../clients/directory.ts';
import { ssfResourceOf } from '../config/ssf-schema.ts';
import type { Deps } from '../deps.ts';
import { audienceIs, notBound, notDelegated, notRevoked, passportAuth, requireScope } from './passport-auth.ts';

export const ssfScope = 'ssf';

export function ssfReceiver(deps: Deps): MiddlewareHandler {
  return passportAuth(deps, {
    dpop: false,
    rules: [
      audienceIs(() => ssfResourceOf(deps.config.main.ssf, deps.issuer), 'audience_not_ssf'),
      notDelegated,
      notBound,
      notRevoked(deps),
      async (claims) => ((await allActive(deps, [claims.client_id])) ? undefined : 'client_inactive'),
      requireScope(ssfScope, 'no_ssf_scope'),
    ],
  });
}

/** The receiver's client_id, on a route behind ssfReceiver. */
export function receiverOf(c: Context): string {
  const claims = c.get('passportClaims');
  if (claims === undefined) throw new Error('ssfReceiver must run before this route');
  return claims.client_id;
}
