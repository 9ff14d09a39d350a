// A personal access token at introspection (RFC 7662): active while unrevoked and unexpired, seen
// only by a caller that may introspect its resource (RFC 7662 §4: anyone else sees inactive).
// The answer says what a Passport's would: sub, scope, aud, iat, exp, iss, with token_type `pat`
// and the token's public id. No client_id: no client requested it, the person did (RFC 7662 §2.2
// makes it optional); a resource server that needs one gets a Passport by exchanging the PAT.
import type { AuthenticatedClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { presentPat } from './pats.ts';

export type PatIntrospection = { active: true; token_type: 'pat'; pat_id: string; sub: string; scope: string; aud: string; iat: number; exp: number; iss: string };

export async function introspectPat(deps: Deps, caller: AuthenticatedClient, token: string): Promise<PatIntrospection | { active: false }> {
  const presented = await presentPat(deps, token, (record) => caller.client.introspects.includes(record.resource));
  if (!presented.ok) {
    deps.log.debug({ reason: `pat_${presented.reason}` }, 'introspection: token not valid');
    return { active: false };
  }
  const { record } = presented;
  return { active: true, token_type: 'pat', pat_id: record.id, sub: record.sub, scope: record.scopes.join(' '), aud: record.resource, iat: record.createdAt, exp: record.expiresAt, iss: deps.issuer };
}
