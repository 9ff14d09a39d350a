// Introspection (RFC 7662) and revocation (RFC 7009) of Passports.
// A caller sees a token only if it was issued to it or is meant for a resource it may introspect
// (RFC 7662 §4: anything else is simply inactive). Revoking writes a receipt.
import { uuidv7 } from '../audit/ids.ts';
import type { AuthenticatedClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { PassportClaims } from './mint.ts';
import { verifyPassport } from './verify.ts';

export type IntrospectionResponse = { active: false } | ({ active: true; token_type: 'Bearer' } & PassportClaims);

const inactive = { active: false } as const;

export async function introspectToken(deps: Deps, caller: AuthenticatedClient, token: string): Promise<IntrospectionResponse> {
  const now = deps.now();
  const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
  if (!check.ok) {
    deps.log.debug({ reason: check.reason }, 'introspection: token not valid');
    return inactive;
  }
  const { claims } = check;
  const visible = claims.client_id === caller.client.client_id || caller.client.introspects.includes(claims.aud);
  if (!visible) return inactive;
  if (await deps.store.revocations.isRevoked(claims.jti)) return inactive;
  return { active: true, token_type: 'Bearer', ...claims };
}

export async function revokeToken(deps: Deps, caller: AuthenticatedClient, token: string): Promise<void> {
  const now = deps.now();
  const check = await verifyPassport(token, deps.keyring, deps.issuer, now);
  // RFC 7009 §2.2: an invalid, expired or unknown token is not an error.
  if (!check.ok) return;
  const { claims } = check;
  // RFC 7009 §2.1: only the client the token was issued to may revoke it.
  if (claims.client_id !== caller.client.client_id) throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
  if (await deps.store.revocations.isRevoked(claims.jti)) return;
  await deps.store.revocations.revoke(claims.jti, claims.client_id, claims.exp, now);
  await deps.store.audit.append({
    id: uuidv7(),
    atMs: Date.now(),
    event: 'passport.revoked',
    clientId: caller.client.client_id,
    subject: claims.sub,
    tokenJti: claims.jti,
    details: { aud: claims.aud, issued_receipt: claims.receipt },
  });
}
