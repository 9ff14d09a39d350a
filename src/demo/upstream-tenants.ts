// The Entra stand-in's multi-tenant authority: a small shape adapter in front of one real
// oidc-provider per tenant (issuer <url>/<tid>/v2.0; all sign with one key, as Entra's tenants
// share keys). oidc-provider has one issuer per instance, so the authority only routes:
//   GET  /<authority>/v2.0/.well-known/openid-configuration  a tenant's document with issuer
//        <url>/{tenantid}/v2.0 and endpoints under /<authority>, as Entra serves it
//   GET  /<authority>/oauth2/v2.0/authorize  home realm: login_hint, else a username page, picks
//        the tenant; the browser goes on to that tenant's authorize with the same parameters
//   POST /<authority>/oauth2/v2.0/token  handed to the tenant that issued the code
//   GET  /<authority>/discovery/v2.0/keys  the shared keys
// Like Entra, no RFC 9207 `iss` in authorization responses (none advertised) and no userinfo at
// the authority. ID tokens are the tenant providers' own, unchanged. Demo and tests only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamAccount } from './upstream-accounts.ts';
import { homeRealmPageHtml, readBody, readForm, rewriteJsonBody, sendHtml, withBody } from './upstream-pages.ts';

export type TenantAuthority = {
  /** <url>/{tenantid}/v2.0, what the authority's discovery document announces. */
  issuer: string;
  /** <url>/organizations/v2.0 (or /common/v2.0): what a relying party is configured with. */
  authority: string;
  handles(pathname: string): boolean;
  route(req: IncomingMessage, res: ServerResponse, pathname: string, query: string): Promise<void>;
  /** For every response of a tenant provider: no `iss` on redirects to the client; remember the code's tenant. */
  watch(res: ServerResponse, tenantId: string): void;
};

export function createTenantAuthority(options: {
  url: string;
  authority: 'organizations' | 'common';
  tenants: ReadonlyMap<string, UpstreamAccount[]>;
  redirectUris: () => string[];
  /** Hands a request to a tenant's provider at `inner` (a path under its mount). */
  forward: (tenantId: string, req: IncomingMessage, res: ServerResponse, inner: string) => void;
}): TenantAuthority {
  const { url, tenants, forward } = options;
  const prefix = `/${options.authority}`;
  const issuer = `${url}/{tenantid}/v2.0`;
  const firstTenant = [...tenants.keys()][0] as string;
  const codeTenant = new Map<string, string>();
  const tenantOf = (username: string) =>
    [...tenants].find(([, accounts]) => accounts.some((a) => a.username.toLowerCase() === username.trim().toLowerCase()))?.[0];

  const authorityDocument = (doc: Record<string, unknown>) => {
    const tenantBase = `${url}/${firstTenant}/`;
    const out = Object.fromEntries(
      Object.entries(doc).map(([k, v]) => [k, typeof v === 'string' && v.startsWith(tenantBase) ? `${url}${prefix}/${v.slice(tenantBase.length)}` : v]),
    );
    delete out.authorization_response_iss_parameter_supported;
    delete out.userinfo_endpoint;
    return { ...out, issuer };
  };

  async function authorize(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    let params = new URLSearchParams(query);
    let username = params.get('login_hint') ?? '';
    if (req.method === 'POST') {
      const form = await readForm(req);
      params = new URLSearchParams(form.get('query') ?? '');
      username = form.get('username') ?? '';
    }
    const tenantId = tenantOf(username);
    if (!tenantId) {
      const error = req.method === 'POST' ? 'We could not find an account with that username.' : undefined;
      sendHtml(res, error ? 401 : 200, homeRealmPageHtml(`${prefix}/oauth2/v2.0/authorize`, params.toString(), error));
      return;
    }
    params.set('login_hint', username.trim());
    res.writeHead(303, { location: `/${tenantId}/oauth2/v2.0/authorize?${params}` }).end();
  }

  return {
    issuer,
    authority: `${url}${prefix}/v2.0`,
    handles: (pathname) => pathname === prefix || pathname.startsWith(`${prefix}/`),
    async route(req, res, pathname, query) {
      switch (pathname) {
        case `${prefix}/v2.0/.well-known/openid-configuration`:
          rewriteJsonBody(res, authorityDocument);
          forward(firstTenant, req, res, `/.well-known/openid-configuration${query}`);
          return;
        case `${prefix}/oauth2/v2.0/authorize`:
          await authorize(req, res, query.slice(1));
          return;
        case `${prefix}/oauth2/v2.0/token`: {
          const body = await readBody(req);
          const code = new URLSearchParams(body.toString('utf8')).get('code') ?? '';
          const tenantId = codeTenant.get(code);
          codeTenant.delete(code);
          if (!tenantId) {
            res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant","error_description":"unknown code"}');
            return;
          }
          forward(tenantId, withBody(req, body), res, '/oauth2/v2.0/token');
          return;
        }
        case `${prefix}/discovery/v2.0/keys`:
          forward(firstTenant, req, res, `/discovery/v2.0/keys${query}`);
          return;
        default:
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      }
    },
    watch(res, tenantId) {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = ((name: string, value: number | string | readonly string[]) => {
        if (name.toLowerCase() !== 'location' || typeof value !== 'string') return setHeader(name, value);
        const target = new URL(value, url);
        const toClient = options.redirectUris().some((uri) => {
          const r = new URL(uri);
          return r.origin === target.origin && r.pathname === target.pathname;
        });
        if (!toClient) return setHeader(name, value);
        const code = target.searchParams.get('code');
        if (code) codeTenant.set(code, tenantId);
        target.searchParams.delete('iss');
        return setHeader(name, target.href);
      }) as ServerResponse['setHeader'];
    },
  };
}
