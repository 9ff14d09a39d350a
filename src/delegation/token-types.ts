// Token type identifiers (RFC 8693 §3, draft-ietf-oauth-identity-assertion-authz-grant §3).
export const tokenTypes = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idJag: 'urn:ietf:params:oauth:token-type:id-jag',
  /** Ours: a person's personal access token (src/pats/), as a token exchange subject_token. */
  pat: 'urn:consulate:token-type:pat',
} as const;
