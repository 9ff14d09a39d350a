// What a person grant yields at the token endpoint, for the authorization_code and refresh_token
// grants alike: a Passport recorded in the grant's token family, an ID token when openid was
// granted, and a rotated refresh token for clients allowed the refresh_token grant.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import { OAuthError } from '../oauth/errors.ts';
import { sameResource } from '../oauth/resource.ts';
import { mintIdToken } from '../passports/id-token.ts';
import { mintPassport } from '../passports/mint.ts';
import { passportIdentityClaims } from '../oauth/identity-scopes.ts';
import { toIssuedGrant, type PersonGrant } from './person-grant.ts';
import { requireDpopForResource } from '../dpop/binding.ts';
import type { DpopBinding } from '../dpop/request.ts';
import type { ActClaim } from '../delegation/act.ts';
import type { GrantResult, TokenResponse } from './types.ts';
import { mappingOfClaims, type Trail } from '../audit/trail.ts';

/** Where the Passport goes and for how long; checked again at every use, as config may change. */
export type PassportTarget = { audience: string; resourceScopes: string[]; ttlSeconds: number; pins?: Readonly<Record<string, string>> | undefined; dropped?: string[] | undefined };

/** `requested`: resources named at the token endpoint (RFC 8707 §2.2): only the grant's own. */
export function passportTarget(deps: Pick<Deps, 'config' | 'issuer'>, client: ClientConfig, grant: PersonGrant, requested: readonly string[] = []): PassportTarget {
  const { config } = deps;
  if (requested.some((uri) => grant.resource === undefined || !sameResource(uri, grant.resource))) throw new OAuthError('invalid_target', 'the resource is not the one this grant is for', { reason: 'resource_not_granted' });
  // Only identity scopes: the Passport is for Consulate itself (userinfo).
  if (grant.resource === undefined) return { audience: deps.issuer, resourceScopes: [], ttlSeconds: config.main.passports.ttl_seconds };
  const resource = config.resources.get(grant.resource);
  const allowed = client.resources[grant.resource];
  if (!resource || !allowed) throw new OAuthError('invalid_grant', 'the grant is for a resource this client may no longer use', { reason: 'resource_withdrawn' });
  // Scopes withdrawn from the client since consent are dropped, never kept.
  const resourceScopes = grant.resourceScopes.filter((scope) => allowed.scopes.includes(scope));
  const dropped = resourceScopes.length < grant.resourceScopes.length ? grant.resourceScopes.filter((scope) => !resourceScopes.includes(scope)) : undefined;
  return { audience: grant.resource, resourceScopes, ttlSeconds: resource.passport_ttl_seconds ?? config.main.passports.ttl_seconds, pins: resource.pins, dropped };
}

/** The refresh record's grant: the person grant plus the family's end, which the store does not hand back. */
export type StoredRefreshGrant = ReturnType<typeof toIssuedGrant> & { familyExpiresAt: number };

/** What issuing a person's tokens reads of the running server. */
export type PersonTokenDeps = Pick<Deps, 'config' | 'issuer' | 'keyring' | 'store'>;

export type PersonTokenRequest = {
  deps: PersonTokenDeps;
  client: ClientConfig;
  /** What this response is for; on refresh possibly narrower than `grant` (scope parameter). */
  issued: PersonGrant;
  /** The whole grant, kept behind the next refresh token (RFC 6749 §6: its scope never narrows). */
  grant: PersonGrant;
  target: PassportTarget;
  familyId: string;
  familyExpiresAt: number;
  claims: Readonly<Record<string, unknown>>;
  nonce?: string | undefined;
  grantType: 'authorization_code' | 'refresh_token' | 'ciba' | 'device_code';
  /** The approval (CIBA, device code) the tokens were issued on: named in the Passport. */
  approvalId?: string | undefined;
  /** An agent acting for the person (CIBA, device code): recorded in the Passport's act. */
  act?: ActClaim | undefined;
  /** The request's DPoP proof key: the Passport is bound to it, and so is the refresh token of a public (or DPoP-bound) client. */
  dpop?: DpopBinding | undefined;
  receipt: string;
  now: number;
  trail: Trail;
};

export async function issuePersonTokens(request: PersonTokenRequest): Promise<GrantResult> {
  const { deps, client, issued, target, familyId, now, trail } = request;
  const { config } = deps;

  // The trail: where, what (and what was dropped), the policy at /authorize, whose claims by which rules.
  trail.resource = { id: target.audience, by: request.approvalId !== undefined ? 'approved' : 'grant' };
  trail.scopes = { asked: [...issued.resourceScopes, ...issued.identityScopes], ...(target.dropped?.length ? { dropped: Object.fromEntries(target.dropped.map((s) => [s, 'no_longer_allowed_for_client'])) } : {}) };
  if (issued.obligation && !trail.obligation) trail.obligation = issued.obligation;
  const mapping = mappingOfClaims(config, request.claims);
  if (mapping) trail.mapping = mapping;

  trail.at = 'dpop_binding';
  const resource = config.resources.get(target.audience);
  if (resource) requireDpopForResource(resource, request.dpop);

  // 1. Sign everything first; the writes come after, so a signing failure writes nothing.
  trail.at = 'mint';
  const scopes = [...target.resourceScopes, ...issued.identityScopes];
  const passport = await mintPassport(deps.keyring, resource?.signing_alg ?? config.main.passports.signing_alg, {
    issuer: deps.issuer,
    subject: issued.sub,
    clientId: client.client_id,
    audience: target.audience,
    scopes,
    authorizationDetails: issued.authorizationDetails,
    identity: passportIdentityClaims(request.claims, client.claims),
    authentication: { authTime: issued.authTime, acr: issued.acr, amr: issued.amr },
    pins: target.pins,
    dpopJkt: request.dpop?.jkt,
    approvalId: request.approvalId,
    act: request.act,
    ttlSeconds: target.ttlSeconds,
    receipt: request.receipt,
    now,
  });
  const idToken = issued.identityScopes.includes('openid')
    ? await mintIdToken(deps.keyring, {
        issuer: deps.issuer,
        client,
        grant: issued,
        claims: request.claims,
        nonce: request.nonce,
        accessToken: passport.token,
        ttlSeconds: config.main.authorization.id_token_ttl_seconds,
        now,
      })
    : undefined;

  // offline_access is not required for a refresh token: a client registered for the refresh_token
  // grant gets one with every person grant (the person consented to the client, which the operator
  // configured as a long-lived one), and a client without it never does, whatever it asks for.
  const refreshExpiresAt = Math.min(now + config.main.authorization.refresh_ttl_seconds, request.familyExpiresAt);
  const refreshToken = (client.grant_types as readonly string[]).includes('refresh_token') && refreshExpiresAt > now ? randomId() : undefined;

  // 2. Record: the Passport joins the family (revoked at once if the family just was), then the refresh token.
  trail.at = 'family';
  await deps.store.families.addPassport(familyId, passport.claims.jti, passport.claims.exp, now);
  if (refreshToken !== undefined) {
    // RFC 9449 §5: a public client's refresh token is bound to its key (a confidential client's
    // only when it is registered DPoP-bound: it authenticates anyway).
    const bindRefresh = client.token_endpoint_auth_method === 'none' || client.dpop_bound_access_tokens;
    const refreshJkt = bindRefresh ? request.dpop?.jkt : undefined;
    const stored: StoredRefreshGrant = { ...toIssuedGrant({ ...request.grant, nonce: undefined, dpopJkt: refreshJkt }), familyExpiresAt: request.familyExpiresAt };
    await deps.store.families.saveRefresh({ tokenHash: hashId(refreshToken), familyId, clientId: client.client_id, grant: stored, createdAt: now, expiresAt: refreshExpiresAt });
  }

  const { claims } = passport;
  const response: TokenResponse = {
    access_token: passport.token,
    token_type: request.dpop ? 'DPoP' : 'Bearer',
    expires_in: target.ttlSeconds,
    ...(claims.scope ? { scope: claims.scope } : {}),
    ...(idToken ? { id_token: idToken.token } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(claims.authorization_details ? { authorization_details: claims.authorization_details } : {}),
  };
  return {
    response,
    audit: {
      event: 'passport.issued',
      subject: issued.sub,
      tokenJti: claims.jti,
      details: {
        grant_type: request.grantType,
        aud: claims.aud,
        scope: claims.scope ?? '',
        exp: claims.exp,
        family: familyId,
        id_token: idToken !== undefined,
        refresh_token: refreshToken !== undefined,
        dpop_jkt: request.dpop?.jkt ?? null,
        ...(request.approvalId ? { approval: request.approvalId } : {}),
        authorization_details_types: claims.authorization_details?.map((d) => d.type) ?? [],
      },
    },
  };
}

/** The family's end as stored with a refresh token; a record without one ends with the token. */
export function familyExpiresAtOf(stored: Readonly<Record<string, unknown>>, fallback: number): number {
  return typeof stored.familyExpiresAt === 'number' ? stored.familyExpiresAt : fallback;
}

/**
 * A code or refresh token used twice: someone else may hold it, so everything the family issued
 * dies (RFC 6749 §4.1.2 for codes, RFC 9700 §4.14.2 for refresh tokens), and the revocation gets its own receipt. An audit failure is
 * logged, never turned into a success or a 500: the client still sees invalid_grant.
 */
export async function revokeOnReuse(deps: Pick<Deps, 'store' | 'receipts' | 'log'>, what: 'code' | 'refresh_token', familyId: string, clientId: string, subject: string | undefined, now: number): Promise<OAuthError> {
  await deps.store.families.revokeFamily(familyId, now);
  try {
    await deps.receipts.record({ event: 'family.revoked', clientId, subject, details: { reason: `${what}_reused`, family: familyId } });
  } catch (cause) {
    deps.log.error({ err: cause }, 'audit write failed for a family revocation');
  }
  return new OAuthError('invalid_grant', what === 'code' ? 'the code was already used' : 'the refresh token was already used', { reason: `${what}_reused` });
}
