// GET (or POST) /receipts/<id>: a receipt and its explanation, as JSON, for whom it concerns:
// - its subject: the person's own Passport for Consulate, Bearer or DPoP, checked as userinfo
//   checks it (person-passport.ts), and not a delegated one (an agent's `act`: the agent asks as a client);
// - its client: client authentication as at /introspect (Basic on GET; a form on POST for
//   client_secret_post and private_key_jwt); a public client (none) proves nothing and is refused.
// Anyone else gets 404, exactly as for an id that does not exist, so that ids cannot be probed; no
// credentials at all: 401 with the challenges. Operators use `consulate explain`.
import type { Context, Hono } from 'hono';
import { explainReceipt, receiptJson } from '../audit/explain.ts';
import { findReceipt } from '../audit/find.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';
import { formatChallenge, formatChallenges } from '../oauth/www-authenticate.ts';
import { bearerChallenge, challengeError, dpopChallenge } from './challenges.ts';
import { authenticateCaller } from './client-auth.ts';
import { dpopNonce } from './dpop-nonce.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import type { PassportRule } from './passport-auth.ts';
import { personPassport } from './person-passport.ts';
import { noStoreJson } from './respond.ts';

const noParams = parseFormParams('');

type Reader = { sub: string } | { clientId: string };

const notDelegated: PassportRule = (claims, presented) => {
  if (claims.act === undefined) return undefined;
  throw challengeError(presented.scheme, 'invalid_token', 'a delegated Passport cannot read receipts: authenticate as the client', 'delegated_passport');
};

/** Who asks: 1 a person's Passport (Bearer / DPoP, checked by the middleware)  2 an authenticated client  3 nobody (undefined). */
async function readerOf(deps: Deps, c: Context, params: Params): Promise<Reader | undefined> {
  const claims = c.get('passportClaims');
  if (claims) return { sub: claims.sub };
  const authorization = c.req.header('authorization');
  const claimsClient = authorization !== undefined || params.get('client_id') !== undefined || params.get('client_assertion') !== undefined;
  if (!claimsClient) return undefined;
  const caller = await authenticateCaller(deps, c, params);
  if (caller.method === 'none') throw new OAuthError('invalid_client', 'a public client cannot read receipts', { reason: 'public_client' });
  return { clientId: caller.client.client_id };
}

export function receiptRoutes(app: Hono, deps: Deps): void {
  const answer = async (c: Context, params: Params) => {
    const reader = await readerOf(deps, c, params);
    if (!reader) {
      c.header('WWW-Authenticate', formatChallenges(bearerChallenge(), dpopChallenge(), formatChallenge('Basic', [['realm', deps.issuer]])));
      c.header('Cache-Control', 'no-store');
      return c.body(null, 401);
    }
    const record = await findReceipt(deps.store, c.req.param('id') ?? '');
    const visible = record !== undefined && ('sub' in reader ? record.subject === reader.sub : record.clientId === reader.clientId);
    if (!visible) throw new OAuthError('not_found', 'no such receipt');
    return noStoreJson(c, { receipt: receiptJson(record), explanation: explainReceipt(record) });
  };
  const person = personPassport(deps, { rules: [notDelegated] });

  app.get('/receipts/:id', dpopNonce(deps, 'userinfo'), person, (c) => answer(c, noParams));
  app.post('/receipts/:id', dpopNonce(deps, 'userinfo'), person, async (c) => answer(c, await readForm(c, deps.config.main.http.max_body_bytes)));
  app.all('/receipts/:id', methodNotAllowed('GET, POST'));
}
