// Every route path that more than one file names: the routes that serve it, the metadata that
// advertises it, app.ts's middleware, links and redirects. One place, so they cannot drift apart.
// Paths a service builds URLs with (the device verification page, the login callback) stay in
// the service and are re-used here, since services never import http/.
import { verificationPath } from '../consent/device-request.ts';

/** The token endpoint and its companions (RFC 6749 §3.2, RFC 7662 §2, RFC 7009 §2). */
export const oauthPaths = { token: '/token', introspection: '/introspect', revocation: '/revoke' } as const;
export const parPath = '/par';
export const cibaPath = '/bc-authorize';
export const userinfoPath = '/userinfo';
export const registrationPath = '/register';
export const jwksPath = '/jwks';
export const usagePath = '/delegations/usage';
export const endSessionPath = '/end-session';
export const approvalsPath = '/approvals';
export const approvalsApiPath = `${approvalsPath}/api`;
export const ssfMetadataPath = '/.well-known/ssf-configuration';
export const authorizePaths = { authorize: '/authorize', continue: '/authorize/continue', consent: '/authorize/consent', account: '/account' } as const;
export const devicePaths = { authorization: '/device_authorization', verify: verificationPath, decide: `${verificationPath}/decide` } as const;
/** The admin page (admin-page.tsx) and the admin API under it (admin/routes.ts): app.ts loads both on the first request under `page`. */
export const adminPaths = { page: '/admin', api: '/admin/v1' } as const;
/** The POST paths of the admin page's forms (app.ts puts them behind the same-origin check). */
export const adminFormPaths = ['/admin/agents/*', '/admin/approvals/*'] as const;
