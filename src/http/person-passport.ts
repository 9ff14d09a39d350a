// A person's own Passport presented to Consulate itself, as at userinfo (OIDC Core §5.3) and GET
// /receipts/<id>: a Bearer (RFC 6750) or DPoP (RFC 9449 §7) token in the Authorization header. A
// DPoP-bound Passport (cnf.jkt) is accepted only with the DPoP scheme and a proof by its key (ath,
// htm, htu, jti once, nonce when configured for userinfo); errors are WWW-Authenticate challenges.
// Accepted: a live Passport of ours for Consulate itself (aud = issuer) from a person grant
// (auth_time), not revoked. A Passport for a resource is refused: the resource server that
// received it must not be able to replay it here.
import type { Context } from 'hono';
import type { Deps } from '../deps.ts';
import { checkRequestProof, dpopChallenge, dpopHeaderValues } from '../dpop/request.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { PassportClaims } from '../passports/mint.ts';
import { verifyPassport } from '../passports/verify.ts';

const credentialShape = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i;

export type Scheme = 'Bearer' | 'DPoP';
export type Presented = { scheme: Scheme; token: string };

export const bearerError = (code: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description: string, reason: string, extra = '', scheme: Scheme = 'Bearer') =>
  new OAuthError(code, description, {
    reason,
    headers: { 'WWW-Authenticate': scheme === 'DPoP' ? dpopChallenge({ code, description }) : `Bearer error="${code}", error_description="${description}"${extra}` },
  });

/** The credential from the header; undefined when the request carries none (another scheme counts as none). */
export function headerCredential(header: string | undefined): Presented | undefined {
  if (header === undefined || !/^(bearer|dpop)(\s|$)/i.test(header.trim())) return undefined;
  const match = credentialShape.exec(header.trim());
  if (!match) throw bearerError('invalid_request', 'the Authorization header is malformed', 'malformed_authorization');
  return { scheme: (match[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] as string };
}

/** RFC 9449 §7.1: proof errors at a resource are 401 challenges of the DPoP scheme. */
export function asChallenge(error: unknown): unknown {
  if (!(error instanceof OAuthError) || (error.code !== 'invalid_dpop_proof' && error.code !== 'use_dpop_nonce')) return error;
  return new OAuthError(error.code, error.description, {
    status: 401,
    reason: error.reason,
    headers: { ...error.headers, 'WWW-Authenticate': dpopChallenge({ code: error.code, description: error.description }) },
  });
}

/** The Passport's claims once every check above has passed; `path`: the endpoint the DPoP proof must name. */
export async function checkPersonPassport(deps: Deps, c: Context, { scheme, token }: Presented, path: string): Promise<PassportClaims> {
  const now = deps.now();
  const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
  const invalid = (reason: string) => bearerError('invalid_token', 'the access token is invalid, expired or revoked', reason, '', scheme);
  if (!check.ok) throw invalid(check.reason);
  const { claims } = check;
  // DPoP: the scheme says a proof comes with it; a bound Passport never travels as Bearer.
  const proofs = dpopHeaderValues(c.req.header('dpop'));
  const boundJkt = typeof claims.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined;
  if (scheme === 'Bearer' && boundJkt !== undefined) throw bearerError('invalid_token', 'this access token is DPoP-bound: use the DPoP scheme with a proof', 'bound_token_as_bearer', '', 'DPoP');
  if (scheme === 'DPoP') {
    if (proofs.length === 0) throw new OAuthError('invalid_dpop_proof', 'a DPoP proof is required', { reason: 'dpop_proof_missing' });
    const dpop = await checkRequestProof(deps, { proofs, method: c.req.method, path, accessToken: token, endpoint: 'userinfo' });
    if (boundJkt === undefined) throw invalid('dpop_scheme_unbound_token');
    if (dpop?.jkt !== boundJkt) throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is not made with the key the access token is bound to', { reason: 'dpop_key_mismatch' });
  }
  if (claims.aud !== deps.issuer) throw invalid('audience_not_consulate');
  if (typeof claims.auth_time !== 'number') throw invalid('not_a_person_passport');
  if (await deps.store.revocations.isRevoked(claims.jti)) throw invalid('revoked');
  return claims;
}
