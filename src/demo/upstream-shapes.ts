// Where each kind's stand-in is mounted, its issuer form and endpoint paths (as the real IdPs use them).
import type { UpstreamKind } from './upstream-accounts.ts';

/** Where the provider is mounted (path prefix stripped before oidc-provider sees a request) and its routes. */
export function shape(kind: UpstreamKind, base: string, tenantId: string) {
  switch (kind) {
    case 'entra':
      // Entra's endpoints are not under its issuer path: mount at /<tid>, serve discovery at
      // /<tid>/v2.0/.well-known/openid-configuration.
      return {
        issuer: `${base}/${tenantId}/v2.0`,
        mount: `/${tenantId}`,
        discoveryPath: `/${tenantId}/v2.0/.well-known/openid-configuration`,
        routes: {
          authorization: '/oauth2/v2.0/authorize',
          token: '/oauth2/v2.0/token',
          jwks: '/discovery/v2.0/keys',
          userinfo: '/oidc/userinfo',
          end_session: '/oauth2/v2.0/logout',
        },
      };
    case 'okta':
      return {
        issuer: `${base}/oauth2/default`,
        mount: '/oauth2/default',
        discoveryPath: '/oauth2/default/.well-known/openid-configuration',
        routes: {
          authorization: '/v1/authorize',
          token: '/v1/token',
          jwks: '/v1/keys',
          userinfo: '/v1/userinfo',
          revocation: '/v1/revoke',
          introspection: '/v1/introspect',
          end_session: '/v1/logout',
        },
      };
    case 'auth0':
      return {
        issuer: `${base}/`,
        mount: '',
        discoveryPath: '/.well-known/openid-configuration',
        routes: {
          authorization: '/authorize',
          token: '/oauth/token',
          jwks: '/.well-known/jwks.json',
          userinfo: '/userinfo',
          revocation: '/oauth/revoke',
          end_session: '/oidc/logout',
        },
      };
    case 'oidc':
      return { issuer: base, mount: '', discoveryPath: '/.well-known/openid-configuration', routes: {} };
  }
}
