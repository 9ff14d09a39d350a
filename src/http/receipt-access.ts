// GET (or POST) /receipts/<id>: a receipt and its explanation, as JSON, for whom it concerns:
// - its subject: the person's own Passport for Consulate, Bearer or DPoP, checked as userinfo
//   checks it (person-passport.ts), and not a delegated one (an agent's `act`: the agent asks as a client);
// - its client: client authentication as at /introspect (Basic on GET; a form on POST for
//   client_secret_post and private_key_jwt); a public client (none) proves nothing and is refused.
// Anyone else gets 404, exactly as for an id that does not exist, so that ids cannot be probed; no
// credentials at all: 401 with the challenges. Operators use `consulate explain`.
import type { Context, Hono } from 'hono';
import { explainReceipt, receiptJson } from '../audit/explain.ts';
import { authenticateClient } from '../clients/authenticate.ts';
import { clientLookup } from '../clients/directory.ts';
import type { Deps } from '../deps.ts';
import { dpopChallenge, nonceHeader } from '../dpop/request.ts';
import { assertionContext } from '../grants/dispatch.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseFormParams, type Params } from '../oauth/params.ts';
import { methodNotAllowed } from './errors.ts';
import { readForm } from './form.ts';
import { asChallenge, bearerError, checkPersonPassport, headerCredential } from './person-passport.ts';
import { noStoreJson } from './respond.ts';
import { sourceAddress } from './source.ts';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const noParams = parseFormParams('');

type Reader = { sub: string } | { clientId: string };

/** Who asks: 1 a person's Passport (Bearer / DPoP)  2 an authenticated client  3 nobody (undefined). */
async function readerOf(deps: Deps, c: Context, params: Params): Promise<Reader | undefined> {
  const authorization = c.req.header('authorization');
  const presented = headerCredential(authorization);
  if (presented) {
    const claims = await checkPersonPassport(deps, c, presented, new URL(c.req.url).pathname);
    if (claims.act !== undefined) throw bearerError('invalid_token', 'a delegated Passport cannot read receipts: authenticate as the client', 'delegated_passport', '', presented.scheme);
    return { sub: claims.sub };
  }
  const claimsClient = authorization !== undefined || params.get('client_id') !== undefined || params.get('client_assertion') !== undefined;
  if (!claimsClient) return undefined;
  const caller = await authenticateClient({ authorization, params, source: sourceAddress(c, deps) }, clientLookup(deps, sourceAddress(c, deps)), assertionContext(deps, deps.now()));
  if (caller.method === 'none') throw new OAuthError('invalid_client', 'a public client cannot read receipts', { reason: 'public_client' });
  return { clientId: caller.client.client_id };
}

export function receiptRoutes(app: Hono, deps: Deps): void {
  const answer = async (c: Context, params: Params) => {
    const nonce = nonceHeader(deps, 'userinfo');
    for (const [name, value] of Object.entries(nonce)) c.header(name, value);
    let reader;
    try {
      reader = await readerOf(deps, c, params);
    } catch (error) {
      throw asChallenge(error);
    }
    if (!reader) {
      c.header('WWW-Authenticate', `Bearer, ${dpopChallenge()}, Basic realm="${deps.issuer}"`);
      c.header('Cache-Control', 'no-store');
      return c.body(null, 401);
    }
    const id = c.req.param('id') ?? '';
    const record = uuidShape.test(id) ? await deps.store.audit.find(id) : undefined;
    const visible = record !== undefined && ('sub' in reader ? record.subject === reader.sub : record.clientId === reader.clientId);
    if (!visible) throw new OAuthError('not_found', 'no such receipt');
    return noStoreJson(c, { receipt: receiptJson(record), explanation: explainReceipt(record) });
  };

  app.get('/receipts/:id', (c) => answer(c, noParams));
  app.post('/receipts/:id', async (c) => answer(c, await readForm(c, deps.config.main.http.max_body_bytes)));
  app.all('/receipts/:id', methodNotAllowed('GET, POST'));
}
