// Resource indicators (RFC 8707): which audience a Passport is for. One audience per Passport.
// Pure: the caller passes the client's allowed resources and the known ones.
import { OAuthError } from './errors.ts';

export function selectResource(
  requested: readonly string[],
  allowed: readonly string[],
  known: ReadonlySet<string>,
  defaultResource: string | undefined,
): string {
  if (requested.length > 1) throw new OAuthError('invalid_target', 'only one resource per request is supported');
  const [resource] = requested;
  if (resource === undefined) {
    const fallback = defaultResource ?? (allowed.length === 1 ? allowed[0] : undefined);
    if (fallback === undefined) throw new OAuthError('invalid_target', 'resource is required for this client');
    return fallback;
  }
  // RFC 8707 §2: an absolute URI without a fragment.
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new OAuthError('invalid_target', 'resource must be an absolute URI');
  }
  if (url.hash || resource.includes('#')) throw new OAuthError('invalid_target', 'resource must not contain a fragment');
  // The configured spelling is the audience, whichever equivalent form was asked.
  const configured = allowed.find((uri) => known.has(uri) && sameResource(uri, resource));
  if (configured === undefined) throw new OAuthError('invalid_target', 'resource is unknown or not allowed for this client');
  return configured;
}

/**
 * Equal, or the same origin with and without its empty path: `https://api.example` and
 * `https://api.example/` (RFC 3986 §6.2.3), which clients that send `URL.href` turn one into the
 * other. Nothing else is normalized: case, ports, dot segments or encodings stay distinct.
 */
export function sameResource(a: string, b: string): boolean {
  if (a === b) return true;
  const bare = (uri: string) => (/^https?:\/\/[^/?#]+\/$/i.test(uri) ? uri.slice(0, -1) : uri);
  return bare(a) === bare(b);
}

/** The granted scopes: what was asked, if all of it is allowed; everything allowed if nothing was asked. */
export function narrowScopes(requested: readonly string[], allowed: readonly string[]): string[] {
  if (requested.length === 0) return [...allowed];
  const refused = requested.filter((scope) => !allowed.includes(scope));
  if (refused.length) throw new OAuthError('invalid_scope', `scope not allowed: ${refused.slice(0, 5).join(' ').slice(0, 200)}`);
  return [...requested];
}
