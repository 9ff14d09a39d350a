// Redirect URI matching: exact string comparison (RFC 9700 §4.1.3, OAuth 2.1 §2.3.1), with the
// one exception of RFC 8252 §7.3: for http loopback IP literals the port may vary. Everything
// after the port is still compared as a string, so no URL normalisation can widen a match.
const loopbackPrefix = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?(?=[/?]|$)/;

export function matchRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const asked = loopbackPrefix.exec(requested);
  // Five digits allow 99999: such a URI matched, then failed to parse when the answer was sent (a 500).
  if (!asked || (asked[2] !== undefined && Number(asked[2].slice(1)) > 65535)) return false;
  const rest = requested.slice(asked[0].length);
  return registered.some((candidate) => {
    const known = loopbackPrefix.exec(candidate);
    return known !== null && known[1] === asked[1] && candidate.slice(known[0].length) === rest;
  });
}
