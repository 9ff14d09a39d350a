// Request objects (RFC 9101, JAR): the authorization request as a JWT signed by the client.
// Signed only (no `none`, no HS*: a shared secret would not prove the client wrote it), with the
// client's registered keys and the client-assertion algorithm allow-list. Per §6.3 only the
// request object's parameters count: the caller's outer parameters are dropped, except client_id.
//
// `typ` (§10.8): `oauth-authz-req+jwt` (with or without `application/`), `JWT` or absent. Requiring
// explicit typing would break OpenID Connect clients, which send untyped request objects; any
// other explicit type (at+jwt, dpop+jwt, …) is a different kind of JWT and is refused.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { assertionAlgorithms, type ClientKeySets } from '../clients/assertion.ts';
import type { ClientConfig, MainConfig } from '../config/schema.ts';
import { OAuthError } from '../oauth/errors.ts';
import { repeatableParams, type Params } from '../oauth/params.ts';

/** A request object may be valid for at most this long (exp - now, and exp - iat). */
export const requestObjectMaxLifetimeSeconds = 3600;
const fapi2WindowSeconds = 3600;

/** What reading a request object needs; `Deps` fits. */
export type RequestObjectDeps = {
  readonly issuer: string;
  readonly now: () => number;
  readonly clientKeySets: ClientKeySets;
  readonly config: { readonly main: Pick<MainConfig, 'client_assertions'> };
};

const acceptedTypes = new Set(['jwt', 'oauth-authz-req+jwt', 'application/oauth-authz-req+jwt']);
/** JWT claims about the object itself, not authorization parameters. */
const jwtClaims = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);
/** Parameters whose value is JSON: an object or array in the JWT, a JSON string as a parameter. */
const jsonParams = new Set(['authorization_details', 'claims']);

const invalid = (description: string, reason?: string) => new OAuthError('invalid_request_object', description, reason ? { reason } : {});
const shownName = (name: string) => (/^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : 'a claim');

/** Parameters held in a map; names are never looked up on a prototype. */
export function paramsFrom(values: ReadonlyMap<string, readonly string[]>): Params {
  return {
    get: (name) => values.get(name)?.[0],
    all: (name) => [...(values.get(name) ?? [])],
    names: () => [...values.keys()],
  };
}

export async function readRequestObject(deps: RequestObjectDeps, client: ClientConfig, jwt: string): Promise<Params> {
  const parts = jwt.split('.').length;
  if (parts === 5) throw invalid('encrypted request objects are not supported');
  if (parts !== 3) throw invalid('request object is not a signed JWT');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw invalid('request object is not a signed JWT');
  }
  if (header.typ !== undefined && !acceptedTypes.has(String(header.typ).toLowerCase())) throw invalid('request object typ is not oauth-authz-req+jwt');
  if (typeof header.alg !== 'string' || !assertionAlgorithms.includes(header.alg)) throw invalid('request object must be signed with an asymmetric algorithm');
  // Checked before asking for the key set: a client without keys has none to build.
  if (!client.jwks && !client.jwks_uri) throw invalid('the client has no registered keys to sign request objects');

  const now = deps.now();
  const skew = deps.config.main.client_assertions.clock_skew_seconds;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, deps.clientKeySets.get(client), {
      issuer: client.client_id,
      audience: deps.issuer,
      algorithms: assertionAlgorithms,
      requiredClaims: ['exp'],
      currentDate: new Date(now * 1000),
      clockTolerance: skew,
    }));
  } catch (error) {
    throw verificationError(error);
  }

  const exp = payload.exp as number;
  const limit = requestObjectMaxLifetimeSeconds + skew;
  if (exp - now > limit || (payload.iat !== undefined && exp - payload.iat > limit)) throw invalid('request object exp is too far in the future');
  if (payload.iat !== undefined && payload.iat > now + skew) throw invalid('request object iat is in the future');
  if (payload.client_id !== undefined && payload.client_id !== client.client_id) throw invalid('request object client_id does not match the client');
  // FAPI 2.0 Message Signing (authorization request): nbf no older than 60 minutes, exp at most 60 minutes after it.
  if (client.request_object_profile === 'fapi2') {
    if (typeof payload.nbf !== 'number') throw invalid('request object nbf is required');
    if (now - payload.nbf > fapi2WindowSeconds + skew) throw invalid('request object nbf is too old');
    if (exp - payload.nbf > fapi2WindowSeconds) throw invalid('request object exp is more than 60 minutes after nbf');
  }
  return toParams(payload, client.client_id);
}

function verificationError(error: unknown): OAuthError {
  if (error instanceof errors.JWTExpired) return invalid('request object has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(`request object ${shownName(error.claim)} claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid('request object must be signed with an asymmetric algorithm');
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
    return invalid("the client's keys could not be fetched", 'keys_unavailable');
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return invalid('request object is not a valid signed JWT');
  if (error instanceof errors.JOSEError) return invalid("request object signature does not verify with the client's registered keys", error.code);
  // Not a verification outcome (a bug): let it become a logged server_error.
  throw error;
}

function toParams(payload: JWTPayload, clientId: string): Params {
  const values = new Map<string, string[]>();
  // Own enumerable properties only; `__proto__` could only ever be mischief.
  for (const [name, value] of Object.entries(payload)) {
    if (name === '__proto__' || jwtClaims.has(name)) continue;
    if (name === 'request' || name === 'request_uri') throw invalid(`request object must not contain ${name}`);
    const list = paramValues(name, value);
    if (list.length) values.set(name, list);
  }
  values.set('client_id', [clientId]);
  return paramsFrom(values);
}

function paramValues(name: string, value: unknown): string[] {
  // Empty values count as absent, as for form parameters.
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return [String(value)];
  if (jsonParams.has(name) && typeof value === 'object' && value !== null) return [JSON.stringify(value)];
  if (repeatableParams.has(name) && Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
  throw invalid(`request object claim ${shownName(name)} has an unsupported value`);
}
