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
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { noStoreJson } from './respond.ts';
import { dpopChallenge, nonceHeader } from '../dpop/request.ts';
import { OAuthError } from '../oauth/errors.ts';
import { asChallenge, bearerError, checkPersonPassport, headerCredential, type Presented } from './person-passport.ts';

export const userinfoPath = '/userinfo';

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
    // The person's own Passport for Consulate (http/person-passport.ts), with openid in its scope.
    const claims = await checkPersonPassport(deps, c, presented, userinfoPath);
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
