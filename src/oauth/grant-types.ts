// The grant_type values Consulate knows (RFC 6749 §4, RFC 8693, RFC 7523, OpenID CIBA, RFC 8628).
// Pure; imports nothing internal, so config, grants and consent can all name them.
export const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const cibaGrant = 'urn:openid:params:grant-type:ciba';
export const deviceCodeGrant = 'urn:ietf:params:oauth:grant-type:device_code';
/** Every grant a client may be allowed in its config. */
export const clientGrantTypes = ['client_credentials', 'authorization_code', 'refresh_token', tokenExchangeGrant, jwtBearerGrant, cibaGrant, deviceCodeGrant] as const;
