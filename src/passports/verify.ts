// Verifies a Passport this server issued: JWS signature by a published key of ours, typ at+jwt,
// alg allow-list, iss, exp/nbf/iat, required claims. Returns a tagged reason instead of throwing;
// callers decide what the wire sees (introspection only ever says active: false).
// Introspection and exchange are hot paths, so the JWS is checked with node:crypto against the
// keyring's cached public KeyObjects (jose goes through WebCrypto on every call), and a token whose
// signature was verified is remembered (bounded, per keyring) so that a resource server
// introspecting the same Passport again skips only the signature: every other check, the key's
// still being published included, runs each time. The policy is jose's jwtVerify with these
// options, step for step; test/unit/passports/verify.test.ts holds the two side by side.
import { verify } from 'node:crypto';
import type { Keyring, SigningAlg } from './keys.ts';
import type { PassportClaims } from './mint.ts';

export type PassportCheck =
  | { ok: true; claims: PassportClaims }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_type' | 'invalid_claims' };

type Failure = Extract<PassportCheck, { ok: false }>;
const fail = (reason: Failure['reason']): Failure => ({ ok: false, reason });

const jwsShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const maxTokenLength = 16384;
const algorithms: readonly SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];
const requiredClaims = ['sub', 'aud', 'client_id', 'jti', 'iat', 'exp', 'iss'] as const;
const decoder = new TextDecoder('utf-8', { fatal: true });
/** ~4 MB of Passports at most; the oldest is forgotten first. */
const maxRemembered = 4096;
const verifiedByKeyring = new WeakMap<Keyring, Set<string>>();

function remember(keyring: Keyring, token: string): void {
  let verified = verifiedByKeyring.get(keyring);
  if (!verified) verifiedByKeyring.set(keyring, (verified = new Set()));
  if (verified.size >= maxRemembered) verified.delete(verified.values().next().value as string);
  verified.add(token);
}

/** A compact JWS of bounded size: anything else is not worth a signature check. */
export const isCompactJws = (token: string): boolean => token.length <= maxTokenLength && jwsShape.test(token);

/** A base64url segment as a JSON object, or undefined (invalid UTF-8, not JSON, not an object). */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(Buffer.from(segment, 'base64url')));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A compact JWS and its payload, parsed but not yet checked: made only by unverifiedJws. */
export type UnverifiedJws = { readonly token: string; readonly payload: Record<string, unknown> };

/**
 * A compact JWS's payload before any check, only to pick who verifies it (token exchange reads `iss`
 * first). Hand the result to verifyPassport, which then parses nothing twice.
 */
export function unverifiedJws(token: string): UnverifiedJws | undefined {
  if (!isCompactJws(token)) return undefined;
  const payload = jsonObject(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')));
  return payload && { token, payload };
}

/** RFC 8725 §3.11 and RFC 9068 §4: `at+jwt`, also spelled with its media type prefix. */
const isAccessTokenTyp = (typ: unknown): boolean => typeof typ === 'string' && ['at+jwt', 'application/at+jwt'].includes(typ.toLowerCase());

/** `jws`: the token, or what unverifiedJws made of it (its payload is used once the signature checks). */
export async function verifyPassport(jws: string | UnverifiedJws, keyring: Keyring, issuer: string, now: number): Promise<PassportCheck> {
  const token = typeof jws === 'string' ? jws : jws.token;
  if (typeof jws === 'string' && !isCompactJws(token)) return fail('malformed');
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
  // 1. The header: an allowed alg, no critical extensions (we define none: RFC 7515 §4.1.11).
  const header = jsonObject(encodedHeader);
  if (!header || header.crit !== undefined || header.b64 !== undefined) return fail('malformed');
  const alg = header.alg as SigningAlg;
  if (!algorithms.includes(alg)) return fail('malformed');
  // 2. One of our published keys, for that alg.
  const key = typeof header.kid === 'string' ? await keyring.verificationKey(header.kid, now) : undefined;
  if (!key || key.alg !== alg) return fail('unknown_key');
  // 3. The signature (ES256 as R || S, RFC 7518 §3.4; EdDSA per RFC 8037), unless this very token was verified before.
  if (!verifiedByKeyring.get(keyring)?.has(token)) {
    const input = Buffer.from(`${encodedHeader}.${encodedPayload}`);
    const signature = Buffer.from(encodedSignature, 'base64url');
    const valid =
      alg === 'ES256'
        ? signature.length === 64 && verify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
        : alg === 'EdDSA'
          ? signature.length === 64 && verify(null, input, key.publicKey, signature)
          : verify('sha256', input, key.publicKey, signature);
    if (!valid) return fail('bad_signature');
    remember(keyring, token);
  }
  // 4. The claims, only now that they are ours.
  const claims = typeof jws === 'string' ? jsonObject(encodedPayload) : jws.payload;
  if (!claims) return fail('malformed');
  if (!isAccessTokenTyp(header.typ)) return fail('wrong_type');
  for (const claim of requiredClaims) if (claims[claim] === undefined) return fail(claim === 'iss' ? 'wrong_issuer' : 'invalid_claims');
  if (claims.iss !== issuer) return fail('wrong_issuer');
  const { iat, nbf, exp } = claims;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('not_yet_valid');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf > now)) return fail('not_yet_valid');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return fail('invalid_claims');
  if (exp <= now) return fail('expired');
  if (typeof claims.aud !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string') return fail('invalid_claims');
  return { ok: true, claims: claims as unknown as PassportClaims };
}
