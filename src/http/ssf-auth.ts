// Who calls the SSF endpoints: a receiver, authenticated with one of our Passports as a Bearer token
// (RFC 6750 §2.1) issued for the SSF resource (ssf.resource, default <issuer>/ssf), carrying scope
// `ssf`, not revoked, not delegated (the receiver acts for itself), not DPoP-bound (no proof is
// checked here), of a client that is active. The receiver is the Passport's client_id. Errors are
// RFC 6750 §3 challenges that do not say which check failed (the reason goes to the log).
import type { Context } from 'hono';
import { allActive } from '../clients/directory.ts';
import { ssfResourceOf } from '../config/ssf-schema.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { verifyPassport } from '../passports/verify.ts';

export const ssfScope = 'ssf';

const bearerShape = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

const challenge = (code: 'invalid_request' | 'invalid_token', description: string, reason: string, status?: number) =>
  new OAuthError(code, description, { reason, ...(status ? { status } : {}), headers: { 'WWW-Authenticate': `Bearer error="${code}", error_description="${description}"` } });

/** The receiver's client_id; throws the challenge to answer otherwise. */
export async function authenticateReceiver(deps: Deps, c: Context): Promise<string> {
  const header = c.req.header('authorization');
  if (header === undefined || !/^bearer(\s|$)/i.test(header.trim())) throw new OAuthError('invalid_token', 'a Bearer token is required', { reason: 'no_token', headers: { 'WWW-Authenticate': 'Bearer' } });
  const match = bearerShape.exec(header.trim());
  if (!match) throw challenge('invalid_request', 'the Authorization header is malformed', 'malformed_authorization', 400);
  const now = deps.now();
  const check = await verifyPassport(match[1] as string, deps.keyring, deps.issuer, now);
  const invalid = (reason: string) => challenge('invalid_token', 'the access token is invalid, expired or revoked', reason);
  if (!check.ok) throw invalid(check.reason);
  const { claims } = check;
  if (claims.aud !== ssfResourceOf(deps.config.main.ssf, deps.issuer)) throw invalid('audience_not_ssf');
  if (claims.act !== undefined) throw invalid('delegated_passport');
  if (claims.cnf?.jkt !== undefined) throw invalid('bound_token_as_bearer');
  if (await deps.store.revocations.isRevoked(claims.jti)) throw invalid('revoked');
  if (!(await allActive(deps, [claims.client_id]))) throw invalid('client_inactive');
  if (!(claims.scope ?? '').split(' ').includes(ssfScope)) {
    throw new OAuthError('insufficient_scope', 'the access token lacks the ssf scope', {
      reason: 'no_ssf_scope',
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", error_description="the access token lacks the ssf scope", scope="${ssfScope}"` },
    });
  }
  return claims.client_id;
}
