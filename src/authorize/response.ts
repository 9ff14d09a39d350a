// The authorization response, to a redirect URI already matched: `code` or `error`, `state`
// echoed, and always `iss` (RFC 9207, against mix-up). Delivered by query (RFC 6749 §4.1.2),
// form_post (OAuth 2.0 Form Post Response Mode) or as one signed JWT (JARM: query.jwt,
// form_post.jwt), signed with the client's ID token algorithm.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { OAuthError } from '../oauth/errors.ts';
import { signJwt } from '../passports/sign.ts';
import type { Target } from './request.ts';

export type AuthorizationAnswer = { kind: 'redirect'; location: string } | { kind: 'form_post'; action: string; fields: Record<string, string> };

/** JARM responses are read at once by the client; a short life limits a leaked one. */
export const jarmTtlSeconds = 120;

export async function authorizationAnswer(deps: Deps, client: ClientConfig, target: Target, result: { code: string } | { error: OAuthError }): Promise<AuthorizationAnswer> {
  const fields: Record<string, string> =
    'code' in result
      ? { code: result.code }
      : { error: result.error.code, ...(result.error.description ? { error_description: result.error.description } : {}) };
  if (target.state !== undefined) fields.state = target.state;

  let delivered = fields;
  if (target.responseMode.endsWith('.jwt')) {
    const now = deps.now();
    const key = await deps.keyring.signingKey(client.id_token_signed_response_alg, now);
    // JARM §2.1: iss, aud and exp in the JWT; the parameters ride inside it.
    delivered = { response: signJwt(key, 'JWT', { iss: deps.issuer, aud: client.client_id, iat: now, exp: now + jarmTtlSeconds, ...fields }) };
  } else {
    delivered = { ...fields, iss: deps.issuer };
  }

  if (target.responseMode.startsWith('form_post')) return { kind: 'form_post', action: target.redirectUri, fields: delivered };
  const url = new URL(target.redirectUri);
  for (const [name, value] of Object.entries(delivered)) url.searchParams.append(name, value);
  return { kind: 'redirect', location: url.href };
}
