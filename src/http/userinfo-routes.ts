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
import { latestClaimsOf } from '../federation/subjects.ts';
import { isIdentityScope, releasedClaims } from '../oauth/identity-scopes.ts';
import { formatChallenges } from '../oauth/www-authenticate.ts';
import { bearerChallenge, challengeError, dpopChallenge } from './challenges.ts';
import { dpopNonce } from './dpop-nonce.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { headerCredential, type Presented } from './passport-auth.ts';
import { personPassport } from './person-passport.ts';
import { noStoreJson } from './respond.ts';
import { userinfoPath } from './paths.ts';

export function userinfoRoutes(deps: Deps): Hono {
  const app = new Hono();
  const maxBytes = deps.config.main.http.max_body_bytes;
  const notInQuery = (c: Context) => {
    if (new URL(c.req.url).searchParams.has('access_token')) throw challengeError('Bearer', 'invalid_request', 'the access token must not be sent in the query', 'token_in_query');
  };
  const fromHeader = (c: Context): Presented | undefined => {
    const presented = headerCredential(c.req.header('authorization'));
    notInQuery(c);
    return presented;
  };
  const fromHeaderOrForm = async (c: Context): Promise<Presented | undefined> => {
    const inHeader = headerCredential(c.req.header('authorization'));
    // Only a form body can carry the token; any other body is not read.
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '');
    const inBody = isForm ? (await readForm(c, maxBytes)).get('access_token') : undefined;
    if (inHeader !== undefined && inBody !== undefined) throw challengeError('Bearer', 'invalid_request', 'the access token was sent more than one way', 'token_sent_twice');
    notInQuery(c);
    return inHeader ?? (inBody === undefined ? undefined : { scheme: 'Bearer', token: inBody });
  };

  const answer = async (c: Context) => {
    const claims = c.get('passportClaims');
    // RFC 6750 §3.1: a request without any token gets the challenges and no error code.
    if (claims === undefined) {
      c.header('WWW-Authenticate', formatChallenges(bearerChallenge(), dpopChallenge()));
      c.header('Cache-Control', 'no-store');
      return c.body(null, 401);
    }
    const scopes = (claims.scope ?? '').split(' ').filter(isIdentityScope);
    const selection = (await findClient(deps, claims.client_id))?.claims;
    return noStoreJson(c, { ...releasedClaims(await latestClaimsOf(deps.store, claims.sub), scopes, selection), sub: claims.sub });
  };

  // The person's own Passport for Consulate (person-passport.ts), with openid in its scope.
  app.get(userinfoPath, dpopNonce(deps, 'userinfo'), personPassport(deps, { scope: 'openid', credential: fromHeader }), answer);
  app.post(userinfoPath, dpopNonce(deps, 'userinfo'), personPassport(deps, { scope: 'openid', credential: fromHeaderOrForm }), answer);
  app.all(userinfoPath, methodNotAllowed('GET, POST'));
  return app;
}
