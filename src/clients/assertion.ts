// private_key_jwt (RFC 7523 §3, OpenID Connect Core §9): a JWT signed with the client's key,
// iss = sub = client_id, aud = our issuer, exp bounded, jti used once (recorded in the database,
// so a replay fails across restarts and nodes). Asymmetric algorithms only.
import { isSoleAudience } from '../oauth/audience.ts';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ClientLookup } from './directory.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { ReplayStore } from '../store/ports.ts';

export const assertionAlgorithms = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];

export type AssertionContext = {
  issuer: string;
  now: number;
  replay: ReplayStore;
  keySets: ClientKeySets;
  maxLifetimeSeconds: number;
  clockSkewSeconds: number;
  /** What a failed client secret check costs at least (clients/secrets.ts secretDecoy). */
  secretDecoy?: string;
};

export type AssertionCheck =
  | { ok: true; client: ClientConfig }
  | { ok: false; reason: 'malformed' | 'unknown_client' | 'method_not_registered' | 'client_id_mismatch' | 'bad_signature' | 'bad_claims' | 'expired' | 'too_long_lived' | 'replayed' | 'keys_unavailable' };

export type ClientKeySets = { get(client: ClientConfig): JWTVerifyGetKey };

/** One key set per client, kept for the life of the config (remote sets cache and refresh themselves). */
export function createClientKeySets(timeoutMs: number): ClientKeySets {
  const sets = new WeakMap<ClientConfig, JWTVerifyGetKey>();
  return {
    get(client) {
      let set = sets.get(client);
      if (!set) {
        set = client.jwks
          ? createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0])
          : createRemoteJWKSet(new URL(client.jwks_uri as string), { timeoutDuration: timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
        sets.set(client, set);
      }
      return set;
    },
  };
}

export async function verifyClientAssertion(assertion: string, clientIdParam: string | undefined, lookup: ClientLookup, context: AssertionContext): Promise<AssertionCheck> {
  let clientId: unknown;
  let typ: string | undefined;
  try {
    clientId = decodeJwt(assertion).sub;
    typ = decodeProtectedHeader(assertion).typ;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  // A JWT typed for another purpose (a request object, a Passport) is never a client assertion.
  if (typ !== undefined && !/^(JWT|client-authentication\+jwt)$/i.test(typ)) return { ok: false, reason: 'bad_claims' };
  if (typeof clientId !== 'string') return { ok: false, reason: 'malformed' };
  if (clientIdParam !== undefined && clientIdParam !== clientId) return { ok: false, reason: 'client_id_mismatch' };
  const client = await lookup(clientId);
  if (!client) return { ok: false, reason: 'unknown_client' };
  if (client.token_endpoint_auth_method !== 'private_key_jwt') return { ok: false, reason: 'method_not_registered' };

  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, context.keySets.get(client), {
      issuer: clientId,
      subject: clientId,
      audience: context.issuer,
      algorithms: assertionAlgorithms,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(context.now * 1000),
      clockTolerance: context.clockSkewSeconds,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: 'bad_claims' };
    if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: 'bad_signature' };
    if (error instanceof errors.JWKSTimeout || (error instanceof Error && 'code' in error && error.code === 'ERR_JOSE_GENERIC')) return { ok: false, reason: 'keys_unavailable' };
    return { ok: false, reason: 'bad_signature' };
  }

  // draft-ietf-oauth-rfc7523bis §4: our issuer identifier as the sole audience.
  if (!isSoleAudience(payload.aud, context.issuer)) return { ok: false, reason: 'bad_claims' };
  const exp = payload.exp as number;
  const limit = context.maxLifetimeSeconds + context.clockSkewSeconds;
  if (exp - context.now > limit || (payload.iat !== undefined && exp - payload.iat > limit)) return { ok: false, reason: 'too_long_lived' };
  if (typeof payload.jti !== 'string' || payload.jti.length > 256) return { ok: false, reason: 'bad_claims' };
  // An untyped request object (RFC 9101) travels through the browser; it must never double as a credential.
  if ('response_type' in payload || 'redirect_uri' in payload) return { ok: false, reason: 'bad_claims' };
  const fresh = await context.replay.useOnce(`client_assertion:${clientId}`, payload.jti, exp + context.clockSkewSeconds, context.now);
  if (!fresh) return { ok: false, reason: 'replayed' };
  return { ok: true, client };
}
