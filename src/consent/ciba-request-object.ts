// Signed backchannel authentication requests (OpenID CIBA Core §7.1.1): the request's parameters
// as claims of a JWT the client signed with one of its registered keys. Checks, in order:
// 1 a compact JWS (no encryption, no `none`, an allowed asymmetric alg)  2 the signature, against
// the client's jwks / jwks_uri  3 iss = client_id, aud = our issuer, exp, iat, nbf and jti present
// (§7.1.1 requires all six), not expired, not yet valid, lifetime bounded  4 jti used once
// (replay store: across restarts and nodes). Only the object's parameters count afterwards; the
// caller refuses request parameters sent beside it. Must not resolve people or open requests.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { paramsFrom, requestObjectMaxLifetimeSeconds } from '../authorize/request-object.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';

/** backchannel_authentication_request_signing_alg_values_supported. */
export const cibaRequestAlgorithms = ['ES256', 'RS256', 'PS256', 'EdDSA'];

/** The parameters of §7.1 (and RFC 8707 / RFC 9396) a signed request may carry; other claims are ignored. */
const requestParams = new Set([
  'scope',
  'client_notification_token',
  'acr_values',
  'login_hint_token',
  'id_token_hint',
  'login_hint',
  'binding_message',
  'user_code',
  'requested_expiry',
  'resource',
  'authorization_details',
]);

/** JWT claims whose name may be shown in an error. */
const namedClaims = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

const invalid = (description: string, reason: string) => new OAuthError('invalid_request', description, { reason: `request_object_${reason}` });

export async function readCibaRequestObject(deps: Deps, client: ClientConfig, jwt: string): Promise<Params> {
  // 1.
  if (jwt.split('.').length !== 3) throw invalid('request must be a signed JWT', 'not_jws');
  let alg: unknown;
  let typ: unknown;
  try {
    ({ alg, typ } = decodeProtectedHeader(jwt));
  } catch {
    throw invalid('request must be a signed JWT', 'malformed');
  }
  if (typeof alg !== 'string' || !cibaRequestAlgorithms.includes(alg)) throw invalid(`request must be signed with one of ${cibaRequestAlgorithms.join(', ')}`, 'alg');
  if (typ !== undefined && String(typ).toLowerCase() !== 'jwt') throw invalid('request has an unexpected typ', 'typ');
  if (!client.jwks && !client.jwks_uri) throw invalid('the client has no registered keys to sign requests', 'no_keys');

  // 2 + 3.
  const now = deps.now();
  const skew = deps.config.main.client_assertions.clock_skew_seconds;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, deps.clientKeySets.get(client), {
      issuer: client.client_id,
      audience: deps.issuer,
      algorithms: cibaRequestAlgorithms,
      requiredClaims: ['exp', 'iat', 'nbf', 'jti'],
      currentDate: new Date(now * 1000),
      clockTolerance: skew,
    }));
  } catch (error) {
    throw verificationError(error);
  }
  const { exp, iat, nbf, jti } = payload as Required<Pick<JWTPayload, 'exp' | 'iat' | 'nbf' | 'jti'>>;
  const limit = requestObjectMaxLifetimeSeconds + skew;
  if (exp - now > limit || exp - iat > limit || exp - nbf > limit) throw invalid('request lifetime is too long', 'too_long_lived');
  if (iat > now + skew) throw invalid('request iat is in the future', 'iat_future');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('request jti is invalid', 'jti');
  if (payload.client_id !== undefined && payload.client_id !== client.client_id) throw invalid('request client_id does not match the client', 'client_id');

  // 4. Recorded only once the object verified: nobody else can use up a client's jti.
  if (!(await deps.store.replay.useOnce(`ciba_request:${client.client_id}`, jti, exp + skew, now))) throw invalid('request was already used', 'replayed');
  return toParams(payload);
}

function verificationError(error: unknown): OAuthError {
  if (error instanceof errors.JWTExpired) return invalid('request has expired', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = namedClaims.has(error.claim) ? error.claim : 'a';
    return invalid(`request ${claim} claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}`, `claim_${claim}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid(`request must be signed with one of ${cibaRequestAlgorithms.join(', ')}`, 'alg');
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) return invalid("the client's keys could not be fetched", 'keys_unavailable');
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return invalid('request is not a valid signed JWT', 'malformed');
  if (error instanceof errors.JOSEError) return invalid("request signature does not verify with the client's registered keys", error.code);
  // Not a verification outcome (a bug): let it become a logged server_error.
  throw error;
}

function toParams(payload: JWTPayload): Params {
  if ('request' in payload || 'request_uri' in payload) throw invalid('request must not contain another request', 'nested');
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(payload)) {
    if (!requestParams.has(name) || value === '' || value === undefined) continue;
    if (typeof value === 'string') values.set(name, [value]);
    else if (name === 'requested_expiry' && typeof value === 'number' && Number.isSafeInteger(value)) values.set(name, [String(value)]);
    else if (name === 'authorization_details' && typeof value === 'object' && value !== null) values.set(name, [JSON.stringify(value)]);
    else if (name === 'resource' && Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) values.set(name, value as string[]);
    else throw invalid(`request claim ${name} has an unsupported value`, 'value');
  }
  return paramsFrom(values);
}
