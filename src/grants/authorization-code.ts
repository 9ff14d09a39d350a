// authorization_code (RFC 6749 §4.1.3, OAuth 2.1, OIDC Core §3.1.3): a code from /authorize,
// redeemed once by the client it was issued to, with the same redirect_uri and the PKCE verifier.
//
// When is the code used up? A code presented by another client is left untouched: that client
// learns nothing and cannot burn, or trigger the revocation of, someone else's login. Once the
// code's own client presents it, it is consumed whatever follows: a wrong or missing redirect_uri
// or code_verifier still spends it, so whoever holds an intercepted code gets exactly one guess at
// the verifier instead of as many as the code's lifetime allows; the honest client's later attempt
// then counts as a reuse and gets invalid_grant too (nothing was issued, so nothing is revoked).
import { hashId } from '../oauth/ids.ts';
import { OAuthError } from '../oauth/errors.ts';
import { verifyPkce } from '../oauth/pkce.ts';
import { requireHolder } from '../dpop/binding.ts';
import { fromIssuedGrant } from './person-grant.ts';
import { familyExpiresAtOf, issuePersonTokens, passportTarget, revokeOnReuse, type PersonTokenDeps } from './person-tokens.ts';
import type { Deps } from '../deps.ts';
import type { Grant, GrantContext } from './types.ts';

/** What this grant reads of the running server: what issuing person tokens needs, and receipts and the log for a reuse. */
type AuthorizationCodeDeps = PersonTokenDeps & Pick<Deps, 'receipts' | 'log'>;

const invalidGrant = (reason: string) => new OAuthError('invalid_grant', 'the code is invalid, expired, used, or was issued to another client or redirect', { reason });

export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',
  params: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<AuthorizationCodeDeps>) {
    trail.at = 'code';
    const code = params.get('code');
    if (code === undefined) throw new OAuthError('invalid_request', 'code is required');
    const codeHash = hashId(code);
    const { authorizations, families } = deps.store;

    // 1. Whose code: read without consuming, so another client's attempt changes nothing.
    const found = await authorizations.findCode(codeHash, now);
    if (!found) throw invalidGrant('unknown_code');
    if (found.clientId !== client.client_id) throw invalidGrant('code_of_another_client');

    // 2. Single use, decided by the store: exactly one redemption is `first`.
    const redemption = await authorizations.redeemCode(codeHash, now);
    if (redemption.status === 'unknown') throw invalidGrant('unknown_code');
    if (redemption.status === 'reused') {
      throw await revokeOnReuse(deps, 'code', redemption.record.familyId, client.client_id, stringOrUndefined(redemption.record.grant.sub), now);
    }
    const { record } = redemption;
    const grant = fromIssuedGrant(record.grant);
    if (grant.clientId === client.client_id) trail.subject = grant.sub;

    // 3. The binding to the authorization request (the code is spent from here on).
    if (grant.clientId !== client.client_id) throw invalidGrant('code_of_another_client');
    if (params.get('redirect_uri') !== grant.redirectUri) throw invalidGrant('redirect_uri_mismatch');
    if (!verifyPkce(params.get('code_verifier'), grant.codeChallenge)) throw invalidGrant('pkce_verifier_mismatch');
    // RFC 9449 §10: a code bound with dpop_jkt is redeemed only with a proof by that key.
    trail.at = 'dpop_binding';
    requireHolder(grant.dpopJkt, dpop, 'authorization code');
    trail.at = 'resource';
    const target = passportTarget(deps, client, grant, params.all('resource'));

    // 4. The family may have been revoked meanwhile (consent withdrawn, a reuse detected).
    trail.at = 'family';
    if (await families.isRevoked(record.familyId, now)) throw invalidGrant('family_revoked');

    // The family's end was stored with the code (authorize/code.ts).
    const familyExpiresAt = familyExpiresAtOf(record.grant, now + deps.config.main.authorization.refresh_family_max_seconds);

    return issuePersonTokens({
      deps,
      client,
      issued: grant,
      grant,
      target,
      familyId: record.familyId,
      familyExpiresAt,
      claims: grant.claims,
      nonce: grant.nonce,
      grantType: 'authorization_code',
      dpop,
      receipt,
      now,
      trail,
    });
  },
};

const stringOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
