// The audience of an assertion presented to us (client assertions, JWT bearer grants, ID-JAGs):
// draft-ietf-oauth-rfc7523bis §4 wants the authorization server's issuer identifier as the sole
// value, not its token endpoint URL and not one of several audiences.

/** `aud` names exactly one audience, `issuer`: the string itself, or an array holding only it. */
export function isSoleAudience(aud: unknown, issuer: string): boolean {
  return aud === issuer || (Array.isArray(aud) && aud.length === 1 && aud[0] === issuer);
}
