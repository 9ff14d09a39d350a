// UserInfo (OIDC Core §5.3): the person's claims for a Bearer (RFC 6750) or DPoP (RFC 9449 §7)
// Passport. A DPoP-bound Passport (cnf.jkt) is accepted only with the DPoP scheme and a proof by
// its key (ath, htm, htu, jti once, nonce when configured); errors are WWW-Authenticate challenges.
// Accepted: a live Passport of ours for Consulate itself (aud = issuer) from a person grant, with
// openid in its scope. A Passport for a resource is refused: the resource server that received it
// must not be able to replay it here to read the person's profile; that client has its ID token.
// The token comes in the Authorization header or, on POST, as the access_token form parameter
// (RFC 6750 §2.2; OIDC Core §5.3.1 allows POST); never in the query (§2.3, refused as OAuth 2.1 does),
// and never two ways at once (§2).
import { findClient } from '../clients/directory.ts';
import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.ts';
import { isIdentityScope, releasedClaims } from '../oauth/identity-scopes.ts';
import { OAuthError } from '../oauth/errors.ts';
import { verifyPassport } from '../passports/verify.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';
import { checkRequestProof, dpopChallenge, dpopHeaderValues, nonceHeader } from '../dpop/request.ts';

export const userinfoPath = '/userinfo';

const credentialShape = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i;

type Scheme = 'Bearer' | 'DPoP';
type Presented = { scheme: Scheme; token: string };

const bearerError = (code: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description: string, reason: string, extra = '', scheme: Scheme = 'Bearer') =>
  new OAuthError(code, description, {
    reason,
    headers: { 'WWW-Authenticate': scheme === 'DPoP' ? dpopChallenge({ code, description }) : `Bearer error="${code}", error_description="${description}"${extra}` },
  });

/** The credential from the header; undefined when the request carries none (another scheme counts as none). */
function headerCredential(header: string | undefined): Presented | undefined {
  if (header === undefined || !/^(bearer|dpop)(\s|$)/i.test(header.trim())) return undefined;
  const match = credentialShape.exec(header.trim());
  if (!match) throw bearerError('invalid_request', 'the Authorization header is malformed', 'malformed_authorization');
  return { scheme: (match[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] as string };
}

/** RFC 9449 §7.1: proof errors at a resource are 401 challenges of the DPoP scheme. */
function asChallenge(error: unknown): unknown {
  if (!(error instanceof OAuthError) || (error.code !== 'invalid_dpop_proof' && error.code !== 'use_dpop_nonce')) return error;
  return new OAuthError(error.code, error.description, {
    status: 401,
    reason: error.reason,
    headers: { ...error.headers, 'WWW-Authenticate': dpopChallenge({ code: error.code, description: error.description }) },
  });
}

export function userinfoRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;

  const answer = async (c: Context, presented: Presented | undefined) => {
    const nonce = nonceHeader(deps, 'userinfo');
    for (const [name, value] of Object.entries(nonce)) c.header(name, value);
    try {
      return await respond(c, presented);
    } catch (error) {
      const shown = asChallenge(error);
      if (shown instanceof OAuthError) Object.assign(shown.headers, nonce, shown.headers);
      throw shown;
    }
  };

  const respond = async (c: Context, presented: Presented | undefined) => {
    if (new URL(c.req.url).searchParams.has('access_token')) throw bearerError('invalid_request', 'the access token must not be sent in the query', 'token_in_query');
    // RFC 6750 §3.1: a request without any token gets the challenges and no error code.
    if (presented === undefined) {
      c.header('WWW-Authenticate', `Bearer, ${dpopChallenge()}`);
      c.header('Cache-Control', 'no-store');
      return c.body(null, 401);
    }
    const { scheme, token } = presented;
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
      const dpop = await checkRequestProof(deps, { proofs, method: c.req.method, path: userinfoPath, accessToken: token, endpoint: 'userinfo' });
      if (boundJkt === undefined) throw invalid('dpop_scheme_unbound_token');
      if (dpop?.jkt !== boundJkt) throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is not made with the key the access token is bound to', { reason: 'dpop_key_mismatch' });
    }
    if (claims.aud !== deps.issuer) throw invalid('audience_not_userinfo');
    if (typeof claims.auth_time !== 'number') throw invalid('not_a_person_passport');
    if (await deps.store.revocations.isRevoked(claims.jti)) throw invalid('revoked');
    const scopes = (claims.scope ?? '').split(' ').filter(isIdentityScope);
    if (!scopes.includes('openid')) throw bearerError('insufficient_scope', 'the access token lacks the openid scope', 'no_openid_scope', ', scope="openid"');

    const latest = (await deps.store.subjects.claimsOf(claims.sub)) ?? {};
    const selection = (await findClient(deps, claims.client_id))?.claims;
    return noStoreJson(c, { ...releasedClaims(latest, scopes, selection), sub: claims.sub });
  };

  app.get(userinfoPath, (c) => answer(c, headerCredential(c.req.header('authorization'))));
  app.post(userinfoPath, async (c) => {
    const fromHeader = headerCredential(c.req.header('authorization'));
    // Only a form body can carry the token; any other body is not read.
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '');
    const fromBody = isForm ? (await readForm(c, maxBytes)).get('access_token') : undefined;
    if (fromHeader !== undefined && fromBody !== undefined) throw bearerError('invalid_request', 'the access token was sent more than one way', 'token_sent_twice');
    return answer(c, fromHeader ?? (fromBody === undefined ? undefined : { scheme: 'Bearer', token: fromBody }));
  });
  app.all(userinfoPath, methodNotAllowed('GET, POST'));
  return app;
}
