// OIDC ID tokens (Core §2, §3.1.3.6) for person grants, signed with the algorithm the client
// registered, and the check of an id_token_hint at RP-initiated logout.
import { createHash } from 'node:crypto';
import { compactVerify, jwtVerify } from 'jose';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { releasedClaims } from '../oauth/identity-scopes.ts';
import type { Keyring } from './keys.ts';
import { signJwtInTurn } from './sign.ts';
import { isCompactJws } from './verify.ts';

export type IdTokenRequest = {
  issuer: string;
  client: Pick<ClientConfig, 'client_id' | 'id_token_signed_response_alg'> & { claims?: readonly string[] | undefined };
  /** The person and their authentication, as a PersonGrant carries them. */
  grant: { sub: string; identityScopes: readonly string[]; authTime: number; acr?: string | undefined; amr?: readonly string[] | undefined; sid: string };
  /** Canonical claims to select from by identity scope. */
  claims: Readonly<Record<string, unknown>>;
  /** Only on the code's ID token; a refreshed ID token never carries one (Core §12.2). */
  nonce?: string | undefined;
  /** The access token issued with it, for at_hash. */
  accessToken: string;
  ttlSeconds: number;
  now: number;
};

/** Core §3.1.3.6: the left half of the hash of the token's ASCII, hash named by the alg (SHA-256 for RS256 and ES256). */
export const accessTokenHash = (accessToken: string): string => createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

export async function mintIdToken(keyring: Keyring, request: IdTokenRequest): Promise<{ token: string; claims: Record<string, unknown> }> {
  const { grant, client, now } = request;
  // Scope-released claims first, so that none of them can replace a protocol claim below.
  const claims: Record<string, unknown> = {
    ...releasedClaims(request.claims, grant.identityScopes, client.claims),
    iss: request.issuer,
    sub: grant.sub,
    aud: client.client_id,
    azp: client.client_id,
    exp: now + request.ttlSeconds,
    iat: now,
    auth_time: grant.authTime,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    ...(grant.acr ? { acr: grant.acr } : {}),
    ...(grant.amr?.length ? { amr: [...grant.amr] } : {}),
    sid: grant.sid,
    at_hash: accessTokenHash(request.accessToken),
  };
  const key = await keyring.signingKey(client.id_token_signed_response_alg, now);
  return { token: await signJwtInTurn(key, 'JWT', claims), claims };
}

export type IdTokenHint = { sub: string; clientId: string; sid?: string | undefined };


/**
 * An id_token_hint at logout: signed by a key of ours that is still published, our issuer, typ JWT
 * (so a Passport, typ at+jwt, is not one). Expired tokens are accepted (RP-Initiated Logout §2:
 * the hint is usually an old ID token). Undefined for anything else.
 */
export async function verifyIdTokenHint(deps: Pick<Deps, 'keyring' | 'issuer' | 'now'>, token: string): Promise<IdTokenHint | undefined> {
  if (!isCompactJws(token)) return undefined;
  const now = deps.now();
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(
      token,
      async (header) => {
        const key = header.kid ? await deps.keyring.verificationKey(header.kid, now) : undefined;
        if (!key || key.alg !== header.alg || header.typ !== 'JWT') throw new Error('not one of our ID tokens');
        return key.publicKey;
      },
      { algorithms: ['ES256', 'RS256'] },
    );
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (payload === null || typeof payload !== 'object' || payload.iss !== deps.issuer || typeof payload.sub !== 'string') return undefined;
  const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
  if (typeof aud !== 'string') return undefined;
  return { sub: payload.sub, clientId: aud, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}) };
}

/**
 * One of our ID tokens presented as a token exchange subject_token: our key, our issuer, typ JWT
 * (never a Passport), not expired, one audience (the client it was issued to).
 */
export async function verifyOwnIdToken(deps: Pick<Deps, 'keyring' | 'issuer'>, token: string, now: number): Promise<Record<string, unknown> | undefined> {
  if (!isCompactJws(token)) return undefined;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await deps.keyring.verificationKey(header.kid, now) : undefined;
        if (!key || key.alg !== header.alg) throw new Error('not one of our keys');
        return key.publicKey;
      },
      { issuer: deps.issuer, typ: 'JWT', algorithms: ['ES256', 'RS256'], requiredClaims: ['sub', 'aud', 'exp', 'iat'], currentDate: new Date(now * 1000), clockTolerance: 0 },
    );
    const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
    if (typeof aud !== 'string' || typeof payload.sub !== 'string') return undefined;
    return { ...payload, aud };
  } catch {
    return undefined;
  }
}
