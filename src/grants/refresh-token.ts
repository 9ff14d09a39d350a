// refresh_token (RFC 6749 §6, OIDC Core §12): rotation with reuse detection. Every use returns a
// new refresh token of the same family; presenting a used one revokes the family (RFC 9700 §4.14.2).
// Everything a client can get wrong is checked before the token is marked used, so that a refused
// request does not spend it and a retry is not mistaken for a reuse. A client may opt in to a grace
// period (refresh_reuse_grace_seconds): within it, its own token presented again after rotation (a
// response lost on the way) gets a fresh successor, and the family lives on.
import { hashId } from '../oauth/ids.ts';
import { OAuthError } from '../oauth/errors.ts';
import { parseScope } from '../oauth/params.ts';
import { requireHolder } from '../dpop/binding.ts';
import { fromIssuedGrant, type PersonGrant } from './person-grant.ts';
import { familyExpiresAtOf, issuePersonTokens, passportTarget, revokeOnReuse, type PersonTokenDeps } from './person-tokens.ts';
import type { Deps } from '../deps.ts';
import type { Grant, GrantContext } from './types.ts';

/** What this grant reads of the running server: what issuing person tokens needs, and receipts and the log for a reuse. */
type RefreshTokenDeps = PersonTokenDeps & Pick<Deps, 'receipts' | 'log'>;

const invalidGrant = (reason: string) => new OAuthError('invalid_grant', 'the refresh token is invalid, expired, revoked, or was issued to another client', { reason });

/** RFC 6749 §6: the scope may only narrow; absent, it is the whole grant. */
function narrow(grant: PersonGrant, requested: readonly string[]): PersonGrant {
  if (requested.length === 0) return grant;
  const granted = new Set([...grant.identityScopes, ...grant.resourceScopes]);
  const refused = requested.filter((scope) => !granted.has(scope));
  if (refused.length) throw new OAuthError('invalid_scope', `scope not granted: ${refused.slice(0, 5).join(' ').slice(0, 200)}`);
  return {
    ...grant,
    identityScopes: grant.identityScopes.filter((scope) => requested.includes(scope)),
    resourceScopes: grant.resourceScopes.filter((scope) => requested.includes(scope)),
  };
}

export const refreshTokenGrant: Grant = {
  grantType: 'refresh_token',
  params: ['refresh_token', 'scope', 'resource'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<RefreshTokenDeps>) {
    trail.at = 'refresh_token';
    const token = params.get('refresh_token');
    if (token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
    const tokenHash = hashId(token);
    const { families } = deps.store;

    // 1. Checks that change nothing: whose token, which scopes, whether the family still lives.
    const found = await families.findRefresh(tokenHash, now);
    if (!found) throw invalidGrant('unknown_refresh_token');
    if (found.clientId !== client.client_id) throw invalidGrant('refresh_token_of_another_client');
    const grant = fromIssuedGrant(found.grant);
    trail.subject = grant.sub;
    trail.at = 'scopes';
    const issued = narrow(grant, parseScope(params.get('scope')));
    trail.at = 'resource';
    const target = passportTarget(deps, client, issued, params.all('resource'));
    trail.at = 'family';
    if (await families.isRevoked(found.familyId, now)) throw invalidGrant('family_revoked');
    // RFC 9449 §5: a bound refresh token is used only with a proof by its key (checked before it is spent).
    trail.at = 'dpop_binding';
    requireHolder(grant.dpopJkt, dpop, 'refresh token');
    trail.at = 'refresh_token';

    // 2. Rotation, decided by the store: exactly one use is `first`; any later one is a reuse, which
    // revokes the family unless it is this client's own retry within its grace period.
    const grace = client.refresh_reuse_grace_seconds ?? 0;
    const withinGrace = (usedAt: number | undefined) => grace > 0 && (usedAt === undefined || now - usedAt <= grace);
    let graced = false;
    if (found.usedAt !== undefined) {
      if (!withinGrace(found.usedAt)) throw await revokeOnReuse(deps, 'refresh_token', found.familyId, client.client_id, grant.sub, now);
      graced = true;
    } else {
      const rotation = await families.rotateRefresh(tokenHash, now);
      if (rotation.status === 'unknown') throw invalidGrant('unknown_refresh_token');
      // Spent a moment ago by a request running beside this one: within any grace period by definition.
      if (rotation.status === 'reused') {
        if (!withinGrace(undefined)) throw await revokeOnReuse(deps, 'refresh_token', rotation.record.familyId, client.client_id, grant.sub, now);
        graced = true;
      }
    }

    // 3. Issue: claims of the person's latest login, authentication facts of the original one.
    const claims = (await deps.store.subjects.claimsOf(grant.sub)) ?? grant.claims;
    const result = await issuePersonTokens({
      deps,
      client,
      issued,
      grant,
      target,
      familyId: found.familyId,
      familyExpiresAt: familyExpiresAtOf(found.grant, found.expiresAt),
      claims,
      grantType: 'refresh_token',
      dpop,
      receipt,
      now,
      trail,
    });
    return graced ? { ...result, audit: { ...result.audit, details: { ...result.audit.details, refresh_reuse: 'within_grace' } } } : result;
  },
};
