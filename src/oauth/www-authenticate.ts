// WWW-Authenticate challenges (RFC 9110 §11.6.1; RFC 6750 §3, RFC 9449 §7.1): one formatter for
// Consulate's own protected endpoints and for the SDK's guard, so both speak the same syntax.
// It formats only; which error to tell is the caller's decision. Nothing from a request goes in.

export type AuthScheme = 'Bearer' | 'DPoP' | 'Basic';
/** A string is sent as a quoted-string; a number as a bare token (RFC 9470 §3's `max_age=300`). */
export type ChallengeParam = readonly [name: string, value: string | number];

// RFC 9110 §5.6.4 quoted-string: only backslash and double quote need escaping; our values are ASCII.
const quote = (value: string) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** One challenge: `Scheme name="value", ...`, or the bare scheme without parameters. */
export function formatChallenge(scheme: AuthScheme, params: readonly ChallengeParam[] = []): string {
  return params.length ? `${scheme} ${params.map(([name, value]) => `${name}=${typeof value === 'number' ? value : quote(value)}`).join(', ')}` : scheme;
}

/** Several challenges in one header value (RFC 9110 §11.6.1), in the order given. */
export const formatChallenges = (...challenges: string[]): string => challenges.join(', ');
