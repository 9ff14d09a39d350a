// Reads the credentials of a protected resource request: the Authorization header (RFC 6750 §2.1
// `Bearer`, RFC 9449 §7.1 `DPoP`, token68 syntax) and the DPoP proof headers. Pure string work:
// it verifies nothing, and it never looks at query strings or bodies (header-only, like the metadata says).
import type { HeaderSource } from './types.ts';

export type Credentials =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'token'; scheme: 'Bearer' | 'DPoP'; token: string; proofs: string[] };

// RFC 9110 §11.2 token68.
const token68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The values of a header as received (fetch's Headers joins repeated ones with ", "). */
export function rawHeaderValues(headers: HeaderSource, name: string): string[] {
  if (headers instanceof Headers) {
    const joined = headers.get(name);
    return joined === null ? [] : [joined];
  }
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : headers[key];
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
}

/** Values of a header whose items hold no commas (JWS compact serialisations): split and trimmed. */
export const listHeaderValues = (headers: HeaderSource, name: string): string[] =>
  rawHeaderValues(headers, name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);

export function readCredentials(headers: HeaderSource): Credentials {
  // 1. Exactly one Authorization value; none at all is "no credentials" (RFC 6750 §3.1: no error code).
  const values = rawHeaderValues(headers, 'authorization').map((v) => v.trim());
  if (values.length === 0 || (values.length === 1 && values[0] === '')) return { kind: 'none' };
  if (values.length > 1) return { kind: 'malformed' };
  // 2. `scheme SP token68`; the scheme is case-insensitive (RFC 9110 §11.1). Other schemes are not ours:
  // no credentials. Two credentials joined into one value ("Bearer a, DPoP b") are not token68: malformed.
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/.exec(values[0] as string);
  if (!match) return { kind: 'malformed' };
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') return { kind: 'none' };
  const token = match[2] ?? '';
  if (!token68.test(token)) return { kind: 'malformed' };
  // 3. The proofs as sent; the proof check wants exactly one (RFC 9449 §4.3 step 1).
  return { kind: 'token', scheme: scheme === 'bearer' ? 'Bearer' : 'DPoP', token, proofs: listHeaderValues(headers, 'dpop') };
}
