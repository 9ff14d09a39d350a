// The peer's client and the requests the bench sends it (see peer-server.ts). No side effects and
// no imports: peer-server.ts imports it too, as plain JavaScript.
export const peerClient = 'bench';
export const peerSecret = 'peer-bench-secret-0123456789abcdef';
export const peerAuthorization = `Basic ${Buffer.from(`${peerClient}:${peerSecret}`).toString('base64')}`;
/** Client credentials for the JWT resource: ES256 access token, as Consulate's Passport. */
export const peerTokenBody = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: 'urn:api' }).toString();
/** Client credentials for the opaque resource: a token only introspection can read. */
export const peerOpaqueTokenBody = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: 'urn:opaque' }).toString();
export const peerIntrospectionPath = '/token/introspection';
