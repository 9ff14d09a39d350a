// The CIBA grant (OpenID CIBA Core §10–11, urn:openid:params:grant-type:ciba): the client polls
// with its auth_req_id. Also how a paused token exchange or JWT bearer request is resumed: the
// agent polls the same way with the auth_req_id it got in the authorization_pending answer, and
// receives exactly what was approved.
import { OAuthError } from '../oauth/errors.ts';
import { issueApprovedPersonTokens, pollApproval } from './approved-request.ts';
import { checkPausedHolder, issueApprovedExchange } from './approved-exchange.ts';
import type { DelegatedPassportDeps } from './delegated-passport.ts';
import type { PersonTokenDeps } from './person-tokens.ts';
import type { Grant, GrantContext } from './types.ts';

/** What this grant reads of the running server: what a resumed exchange and approved person tokens need. */
type CibaDeps = DelegatedPassportDeps & PersonTokenDeps;

export const cibaGrantType = 'urn:openid:params:grant-type:ciba';

export const cibaGrant: Grant = {
  grantType: cibaGrantType,
  params: ['auth_req_id'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<CibaDeps>) {
    trail.at = 'parameters';
    const authReqId = params.get('auth_req_id');
    if (authReqId === undefined) throw new OAuthError('invalid_request', 'auth_req_id is required');
    const record = await pollApproval(deps, client, authReqId, ['ciba', 'exchange'], 'auth_req_id', now, (r) => {
      if (r.kind === 'exchange') {
        trail.at = 'dpop_binding';
        checkPausedHolder(r, dpop);
      }
    }, trail);
    if (record.kind === 'exchange') return issueApprovedExchange({ deps, client, record, dpop, receipt, now, trail });
    return issueApprovedPersonTokens({ deps, client, record, grantType: 'ciba', dpop, receipt, now, trail });
  },
};
