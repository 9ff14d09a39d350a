// Introspection (RFC 7662) and revocation (RFC 7009) of Passports, and revocation of refresh tokens.
// A Passport is active while it is valid, not revoked (itself or anything it was exchanged from),
// every client of its actor chain is an active one, and its delegation is live.
// A caller sees a token only if it was issued to it or is meant for a resource it may introspect
// (RFC 7662 §4: anything else is simply inactive). Revoking writes a receipt.
// The two kinds cannot be confused: a Passport is a JWS (dots), a refresh token is one base64url
// string, so the shape decides and token_type_hint is not needed (RFC 7009 §2.1 lets it be ignored).
// A refresh token is seen only by the client it was issued to (RFC 7662 §2.2 lets the owner see
// it): active while unspent (not rotated), unexpired and its family alive; anyone else sees inactive.
import { allActive } from '../clients/directory.ts';
import type { AuthenticatedClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { hashId } from '../oauth/ids.ts';
import { OAuthError } from '../oauth/errors.ts';
import { actorsOf, parseAct } from '../delegation/act.ts';
import { isSpent, remainingBudget } from '../delegation/budget.ts';
import type { PassportClaims } from '../passports/mint.ts';
import { verifyPassport } from '../passports/verify.ts';
import { looksLikePat } from '../pats/format.ts';
import { introspectPat, type PatIntrospection } from '../pats/introspect.ts';

export type IntrospectionResponse =
  | { active: false }
  | { active: true; token_type: 'refresh_token'; client_id: string; scope: string; sub: string; iat: number; exp: number; iss: string }
  | ({ active: true; token_type: 'Bearer' | 'DPoP'; delegation_active?: boolean; budget_remaining?: Record<string, unknown> } & PassportClaims)
  | PatIntrospection;

const inactive = { active: false } as const;

export async function introspectToken(deps: Deps, caller: AuthenticatedClient, token: string): Promise<IntrospectionResponse> {
  // A PAT has its own prefix (pats/format.ts): neither a JWS nor a refresh token can be mistaken for one.
  if (looksLikePat(token)) return introspectPat(deps, caller, token);
  const now = deps.now();
  if (!token.includes('.')) return introspectRefreshToken(deps, caller, token, now);
  const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
  if (!check.ok) {
    deps.log.debug({ reason: check.reason }, 'introspection: token not valid');
    return inactive;
  }
  const { claims } = check;
  const visible = claims.client_id === caller.client.client_id || caller.client.introspects.includes(claims.aud);
  if (!visible) return inactive;
  if (await deps.store.revocations.isRevoked(claims.jti)) return inactive;
  // A suspended or retired agent anywhere in the chain, as the client, or as the one represented
  // (service to service) ends the Passport at once: the states in force now, on every node.
  const act = parseAct(claims.act);
  const represented = deps.config.clients.has(claims.sub) ? [claims.sub] : [];
  if (act === 'invalid' || !(await allActive(deps, [claims.client_id, ...actorsOf(act), ...represented]))) return inactive;
  // RFC 9449 §6.2: a bound Passport introspects with its cnf and token_type DPoP.
  const tokenType = claims.cnf ? 'DPoP' : 'Bearer';
  if (claims.did === undefined) return { active: true, token_type: tokenType, ...claims };
  // Delegated: the delegation must still be live (not revoked, budget not spent).
  const delegation = typeof claims.did === 'string' ? await deps.store.delegations.find(claims.did) : undefined;
  if (!delegation || delegation.revokedAt !== undefined || delegation.expiresAt <= now || isSpent(delegation)) return inactive;
  const remaining = remainingBudget(delegation);
  return { active: true, token_type: tokenType, ...claims, delegation_active: true, ...(remaining ? { budget_remaining: remaining } : {}) };
}

export async function revokeToken(deps: Deps, caller: AuthenticatedClient, token: string): Promise<void> {
  const now = deps.now();
  if (!token.includes('.')) return revokeRefreshToken(deps, caller, token, now);
  const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
  // RFC 7009 §2.2: an invalid, expired or unknown token is not an error.
  if (!check.ok) return;
  const { claims } = check;
  // RFC 7009 §2.1: only the client the token was issued to may revoke it.
  if (claims.client_id !== caller.client.client_id) throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
  if (await deps.store.revocations.isRevoked(claims.jti)) return;
  await deps.store.revocations.revoke(claims.jti, claims.client_id, claims.exp, now);
  // Everything exchanged from it, further down the chain, goes with it.
  const descendants = await deps.store.lineage.revokeDescendants([claims.jti], now);
  await deps.receipts.record({ event: 'passport.revoked',
    clientId: caller.client.client_id,
    subject: claims.sub,
    tokenJti: claims.jti,
    details: { aud: claims.aud, issued_receipt: claims.receipt, descendants_revoked: descendants, ...(claims.did ? { did: claims.did } : {}) },
  });
}

/** RFC 7009 §2.1: revoking a refresh token also revokes what its grant issued: the whole family. */
async function revokeRefreshToken(deps: Deps, caller: AuthenticatedClient, token: string, now: number): Promise<void> {
  const record = await deps.store.families.findRefresh(hashId(token), now);
  if (!record) return;
  if (record.clientId !== caller.client.client_id) throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
  if (await deps.store.families.isRevoked(record.familyId, now)) return;
  await deps.store.families.revokeFamily(record.familyId, now);
  await deps.receipts.record({ event: 'family.revoked',
    clientId: caller.client.client_id,
    subject: typeof record.grant.sub === 'string' ? record.grant.sub : undefined,
    details: { reason: 'refresh_token_revoked', family: record.familyId },
  });
}

async function introspectRefreshToken(deps: Deps, caller: AuthenticatedClient, token: string, now: number): Promise<IntrospectionResponse> {
  if (!/^[A-Za-z0-9_-]{20,200}$/.test(token)) return inactive;
  const record = await deps.store.families.findRefresh(hashId(token), now);
  if (!record || record.clientId !== caller.client.client_id || record.usedAt !== undefined) return inactive;
  if (await deps.store.families.isRevoked(record.familyId, now)) return inactive;
  const grant = record.grant as { sub?: unknown; identityScopes?: unknown; resourceScopes?: unknown };
  const scopes = [grant.resourceScopes, grant.identityScopes].flatMap((list) => (Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : []));
  return { active: true, token_type: 'refresh_token', client_id: record.clientId, scope: scopes.join(' '), sub: String(grant.sub), iat: record.createdAt, exp: record.expiresAt, iss: deps.issuer };
}
