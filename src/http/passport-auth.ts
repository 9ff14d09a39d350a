// Passport authentication for Consulate's own protected endpoints (userinfo, receipts, the approvals
// API, SSF): one of our Passports in the Authorization header (RFC 6750 §2.1), Bearer or, where the
// endpoint allows it, DPoP (RFC 9449 §7) with a proof by the bound key (ath, htm, htu, jti once,
// nonce when configured for userinfo). The shared steps, in order:
// 1 the credential (none → 401 challenge, or the endpoint decides when `optional`)  2 signature,
// lifetime, issuer  3 DPoP binding: a bound Passport only with the DPoP scheme and its key's proof
// 4 the endpoint's own rules, in its order: the audience it serves, revocation, scope...
// → c.get('passportClaims'). Errors are WWW-Authenticate challenges that do not say which check failed;
// the reason goes to the log.
import type { Context, MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.ts';
import { checkRequestProof, dpopHeaderValues } from '../dpop/request.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { PassportClaims } from '../passports/mint.ts';
import { verifyPassport } from '../passports/verify.ts';
import { isRevoked } from '../passports/revocation.ts';
import { asChallenge, bearerChallenge, challengeError, type Scheme } from './challenges.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The caller's Passport (passportAuth), once every check passed; undefined when none came and it was optional. */
    passportClaims: PassportClaims | undefined;
  }
}

export type Presented = { scheme: Scheme; token: string };

/** One of the endpoint's rules: a refusal reason (answered as invalid_token), or undefined to go on; may throw its own error. */
export type PassportRule = (claims: PassportClaims, presented: Presented) => string | undefined | Promise<string | undefined>;

export type PassportAuthOptions = {
  /** DPoP as well as Bearer (RFC 9449 §7); Bearer only otherwise. */
  dpop: boolean;
  /** The endpoint's checks after the binding, in its order: the audience first (audienceIs). */
  rules: readonly PassportRule[];
  /** No credential at all: hand on with c.get('passportClaims') undefined, for the endpoint to answer (else 401 `Bearer`). */
  optional?: boolean;
  /** Where the credential comes from; the Authorization header by default. */
  credential?: (c: Context) => Presented | undefined | Promise<Presented | undefined>;
};

const credentialShape = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i;

export const invalidTokenDescription = 'the access token is invalid, expired or revoked';

/** The credential from the Authorization header; undefined when it carries none (another scheme counts as none). */
export function headerCredential(header: string | undefined, dpop = true): Presented | undefined {
  if (header === undefined || !(dpop ? /^(bearer|dpop)(\s|$)/i : /^bearer(\s|$)/i).test(header.trim())) return undefined;
  const match = credentialShape.exec(header.trim());
  if (!match) throw challengeError('Bearer', 'invalid_request', 'the Authorization header is malformed', 'malformed_authorization', { status: 400 });
  return { scheme: (match[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] as string };
}

/** A rule: the Passport is for this endpoint's audience (a Passport for a resource is not replayed here). */
export const audienceIs = (audience: () => string, reason: string): PassportRule => (claims) => (claims.aud === audience() ? undefined : reason);

/** A rule: the caller acts for itself, not for someone (no `act`, RFC 8693 §4.1). */
export const notDelegated: PassportRule = (claims) => (claims.act === undefined ? undefined : 'delegated_passport');

/** A rule, where no proof is checked (Bearer only): the Passport is not DPoP-bound. */
export const notBound: PassportRule = (claims) => (claims.cnf?.jkt === undefined ? undefined : 'bound_token_as_bearer');

/** A rule: the Passport comes from a person grant (it has an auth_time). */
export const fromAPersonGrant: PassportRule = (claims) => (typeof claims.auth_time === 'number' ? undefined : 'not_a_person_passport');

/** A rule: the Passport was not revoked since. */
export const notRevoked = (deps: Pick<Deps, 'store'>): PassportRule => async (claims) => ((await isRevoked(deps.store, claims.jti)) ? 'revoked' : undefined);

/** A rule: the Passport carries `scope` (403 insufficient_scope naming it, RFC 6750 §3.1). */
export const requireScope = (scope: string, reason: string): PassportRule => (claims) => {
  if ((claims.scope ?? '').split(' ').includes(scope)) return undefined;
  throw challengeError('Bearer', 'insufficient_scope', `the access token lacks the ${scope} scope`, reason, { params: [['scope', scope]] });
};

export function passportAuth(deps: Deps, options: PassportAuthOptions): MiddlewareHandler {
  const credentialOf = options.credential ?? ((c: Context) => headerCredential(c.req.header('authorization'), options.dpop));
  return async function passportAuth(c, next) {
    const presented = await credentialOf(c);
    if (presented === undefined) {
      if (!options.optional) throw new OAuthError('invalid_token', 'a Bearer token is required', { reason: 'no_token', headers: { 'WWW-Authenticate': bearerChallenge() } });
      c.set('passportClaims', undefined);
      return next();
    }
    try {
      c.set('passportClaims', await checkPassport(deps, c, presented, options));
    } catch (error) {
      throw options.dpop ? asChallenge(error) : error;
    }
    return next();
  };
}

async function checkPassport(deps: Deps, c: Context, presented: Presented, options: PassportAuthOptions): Promise<PassportClaims> {
  const { scheme, token } = presented;
  const invalid = (reason: string) => challengeError(scheme, 'invalid_token', invalidTokenDescription, reason);
  // 2.
  const check = await verifyPassport(token, deps.keyring, deps.issuer, deps.now());
  if (!check.ok) throw invalid(check.reason);
  const { claims } = check;
  // 3. The scheme says a proof comes with it; a bound Passport never travels as Bearer.
  if (options.dpop) {
    const boundJkt = typeof claims.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined;
    if (scheme === 'Bearer' && boundJkt !== undefined) throw challengeError('DPoP', 'invalid_token', 'this access token is DPoP-bound: use the DPoP scheme with a proof', 'bound_token_as_bearer');
    if (scheme === 'DPoP') {
      const proofs = dpopHeaderValues(c.req.header('dpop'));
      if (proofs.length === 0) throw new OAuthError('invalid_dpop_proof', 'a DPoP proof is required', { reason: 'dpop_proof_missing' });
      const dpop = await checkRequestProof(deps, { proofs, method: c.req.method, path: new URL(c.req.url).pathname, accessToken: token, endpoint: 'userinfo' });
      if (boundJkt === undefined) throw invalid('dpop_scheme_unbound_token');
      if (dpop?.jkt !== boundJkt) throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is not made with the key the access token is bound to', { reason: 'dpop_key_mismatch' });
    }
  }
  // 4.
  for (const rule of options.rules) {
    const reason = await rule(claims, presented);
    if (reason !== undefined) throw invalid(reason);
  }
  return claims;
}
