// A person's own Passport presented to Consulate itself, as at userinfo (OIDC Core §5.3) and GET
// /receipts/<id>: Bearer (RFC 6750) or DPoP (RFC 9449 §7), checked by passportAuth (a bound
// Passport only with the DPoP scheme and its key's proof). Accepted: a live Passport of ours for
// Consulate itself (aud = issuer) from a person grant (auth_time), not revoked. A Passport for a
// resource is refused: the resource server that received it must not be able to replay it here.
// Without any credential the endpoint answers itself (each offers its own challenges).
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.ts';
import { audienceIs, fromAPersonGrant, notRevoked, passportAuth, requireScope, type PassportAuthOptions, type PassportRule } from './passport-auth.ts';

export type PersonPassportOptions = Pick<PassportAuthOptions, 'credential'> & {
  /** A scope the Passport must carry, checked last. */
  scope?: string;
  /** The endpoint's own refusals, after the person checks and before the scope. */
  rules?: readonly PassportRule[];
};

export function personPassport(deps: Deps, options: PersonPassportOptions = {}): MiddlewareHandler {
  return passportAuth(deps, {
    dpop: true,
    optional: true,
    ...(options.credential ? { credential: options.credential } : {}),
    rules: [
      audienceIs(() => deps.issuer, 'audience_not_consulate'),
      fromAPersonGrant,
      notRevoked(deps),
      ...(options.rules ?? []),
      ...(options.scope !== undefined ? [requireScope(options.scope, `no_${options.scope}_scope`)] : []),
    ],
  });
}
