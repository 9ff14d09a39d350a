// UserInfo (OIDC Core §5.3): the person's claims for a Bearer Passport (RFC 6750).
// Accepted: a live Passport of ours for Consulate itself (aud = issuer) from a person grant, with
// openid in its scope. A Passport for a resource is refused: the resource server that received it
// must not be able to replay it here to read the person's profile; that client has its ID token.
// The token comes in the Authorization header or, on POST, as the access_token form parameter
// (RFC 6750 §2.2; OIDC Core §5.3.1 allows POST); never in the query (§2.3, refused as OAuth 2.1 does),
// and never two ways at once (§2).
import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.ts';
import { isIdentityScope, releasedClaims } from '../oauth/identity-scopes.ts';
import { OAuthError } from '../oauth/errors.ts';
import { verifyPassport } from '../passports/verify.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';

export const userinfoPath = '/userinfo';

const bearerShape = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

const bearerError = (code: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description: string, reason: string, extra = '') =>
  new OAuthError(code, description, { reason, headers: { 'WWW-Authenticate': `Bearer error="${code}", error_description="${description}"${extra}` } });

/** The token from the header; undefined when the request carries none (another scheme counts as none). */
function headerToken(header: string | undefined): string | undefined {
  if (header === undefined || !/^bearer(\s|$)/i.test(header.trim())) return undefined;
  const match = bearerShape.exec(header.trim());
  if (!match) throw bearerError('invalid_request', 'the Authorization header is malformed', 'malformed_bearer');
  return match[1];
}

export function userinfoRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;

  const answer = async (c: Context, token: string | undefined) => {
    if (new URL(c.req.url).searchParams.has('access_token')) throw bearerError('invalid_request', 'the access token must not be sent in the query', 'token_in_query');
    // RFC 6750 §3.1: a request without any token gets the challenge and no error code.
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer');
      c.header('Cache-Control', 'no-store');
      return c.body(null, 401);
    }
    const now = deps.now();
    const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
    const invalid = (reason: string) => bearerError('invalid_token', 'the access token is invalid, expired or revoked', reason);
    if (!check.ok) throw invalid(check.reason);
    const { claims } = check;
    if (claims.aud !== deps.issuer) throw invalid('audience_not_userinfo');
    if (typeof claims.auth_time !== 'number') throw invalid('not_a_person_passport');
    if (await deps.store.revocations.isRevoked(claims.jti)) throw invalid('revoked');
    const scopes = (claims.scope ?? '').split(' ').filter(isIdentityScope);
    if (!scopes.includes('openid')) throw bearerError('insufficient_scope', 'the access token lacks the openid scope', 'no_openid_scope', ', scope="openid"');

    const latest = (await deps.store.subjects.claimsOf(claims.sub)) ?? {};
    const selection = deps.config.clients.get(claims.client_id)?.claims;
    return noStoreJson(c, { ...releasedClaims(latest, scopes, selection), sub: claims.sub });
  };

  app.get(userinfoPath, (c) => answer(c, headerToken(c.req.header('authorization'))));
  app.post(userinfoPath, async (c) => {
    const fromHeader = headerToken(c.req.header('authorization'));
    // Only a form body can carry the token; any other body is not read.
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '');
    const fromBody = isForm ? (await readForm(c, maxBytes)).get('access_token') : undefined;
    if (fromHeader !== undefined && fromBody !== undefined) throw bearerError('invalid_request', 'the access token was sent more than one way', 'token_sent_twice');
    return answer(c, fromHeader ?? fromBody);
  });
  app.all(userinfoPath, methodNotAllowed('GET, POST'));
  return app;
}
