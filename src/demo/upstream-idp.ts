// Stand-in upstream IdPs for the demo and the e2e tests (never for production): real OpenID providers (panva's
// oidc-provider) on 127.0.0.1 ephemeral ports, shaped like Entra ID, Okta, Auth0 or a plain
// OpenID provider — issuer form, endpoint paths and ID token claims.
//
//   kind   issuer                              endpoints (authorize / token / jwks / userinfo)
//   entra  <url>/<tenantId>/v2.0               <url>/<tid>/oauth2/v2.0/authorize, …/oauth2/v2.0/token,
//                                              <url>/<tid>/discovery/v2.0/keys, <url>/<tid>/oidc/userinfo
//   okta   <url>/oauth2/default                <issuer>/v1/authorize, /v1/token, /v1/keys, /v1/userinfo
//   auth0  <url>/   (trailing slash)           <url>/authorize, /oauth/token, /.well-known/jwks.json, /userinfo
//   oidc   <url>                               <url>/auth, /token, /jwks, /me (oidc-provider defaults)
//
// Discovery is always <issuer without trailing slash>/.well-known/openid-configuration.
//
// Which scope releases which ID token / userinfo claims (see SCOPE_CLAIMS in upstream-accounts.ts):
//   entra  openid: sub, tid, groups (+ any other custom claim)  profile: name, preferred_username, oid,
//          given_name, family_name                              email: email, xms_edov
//   okta   openid: sub, uid (custom)   profile: standard profile claims   email: email, email_verified
//          groups: groups              address, phone: standard
//   auth0  openid: sub + namespaced custom claims (https://example.com/roles, …)
//          profile: standard profile claims (name, nickname, …)  email: email, email_verified
//   oidc   openid: sub   profile / email / address / phone: the standard OpenID Connect claims
// On every kind `openid` also releases auth_time (always), amr (always) and acr (when the login
// had one) in the ID token. Any account claim no scope covers rides on `openid`.
//
// Every client: response_types [code], PKCE S256 required, client_secret_basic or
// client_secret_post (either works for every client), ID tokens RS256 with a key generated at
// start, RFC 9207 `iss` in every authorization response, userinfo enabled.
//
// Entra multi-tenant mode (`multiTenant`): one provider per tenant (issuer <url>/<tid>/v2.0,
// endpoints under /<tid>) behind the authority <url>/organizations/v2.0, whose discovery document
// announces <url>/{tenantid}/v2.0 (see upstream-tenants.ts). No RFC 9207 `iss` then, as at Entra.
//
// Access tokens: opaque and for userinfo only by default. With `apis`, a `resource` parameter
// (RFC 8707) names one of them and gets an access token for it, a JWT (typ at+jwt, RS256, aud =
// the resource, with the kind's access token claims: see upstream-apis.ts) or, for an API with
// format opaque, an opaque one. The Okta shape also has an RFC 7662 introspection endpoint
// (<issuer>/v1/introspect, any of its clients may call it).
//
// Tests can see and change token responses (`interceptTokenResponses`) and sign with the
// stand-in's own key (`signingKey`), to play an upstream that misbehaves, and see each request's
// headers as it arrives (`observeRequests`: the traceparent Consulate sends).
import { generateKeyPair, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from '../http/listen.ts';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { DEFAULT_ENTRA_TENANT_ID, defaultAccounts, defaultTenantAccounts, type UpstreamAccount, type UpstreamKind } from './upstream-accounts.ts';
import { driveLogin, UpstreamBrowser, type UpstreamLoginOptions } from './upstream-browser.ts';
import { escapeHtml, page, rewriteJsonBody, sendHtml } from './upstream-pages.ts';
import type { UpstreamApi } from './upstream-apis.ts';
import { createStandInProvider, type StandInProvider, type UpstreamClient } from './upstream-provider.ts';
import { shape } from './upstream-shapes.ts';
import { createTenantAuthority, type TenantAuthority } from './upstream-tenants.ts';

export { DEFAULT_ENTRA_TENANT_ID, defaultAccounts, defaultTenantAccounts, ENTRA_GROUPS, FABRIKAM_ENTRA_TENANT_ID, SCOPE_CLAIMS } from './upstream-accounts.ts';
export type { UpstreamAccount, UpstreamKind } from './upstream-accounts.ts';
export { UpstreamBrowser, type UpstreamLoginOptions } from './upstream-browser.ts';
export type { UpstreamClient } from './upstream-provider.ts';
export type { UpstreamApi } from './upstream-apis.ts';

export type UpstreamOptions = {
  kind: UpstreamKind;
  clients: UpstreamClient[];
  /** Default: defaultAccounts(kind). Entra accounts without `tid` get the tenant's. */
  accounts?: UpstreamAccount[];
  /** Entra only; default DEFAULT_ENTRA_TENANT_ID. */
  tenantId?: string;
  /**
   * Entra only: a multi-tenant authority in front of one provider per tenant. `tenants` maps each
   * tenant id to the accounts that sign in there (default defaultTenantAccounts()); an account's
   * `tid` claim defaults to its tenant but may be set to anything, to play a misbehaving IdP.
   */
  multiTenant?: { authority?: 'organizations' | 'common'; tenants?: Record<string, UpstreamAccount[]> };
  /** Default 0: any free port on 127.0.0.1. The demo uses fixed ports from its config. */
  port?: number;
  /** APIs it issues access tokens for through a `resource` parameter. Default: none. */
  apis?: UpstreamApi[];
};

export type ObservedRequest = { method: string; path: string; headers: IncomingMessage['headers'] };

export type TokenResponseRewrite = (body: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

export type Upstream = {
  kind: UpstreamKind;
  /** Exactly what the ID token `iss` and the discovery document say (multi-tenant: the {tenantid} template). */
  issuer: string;
  discoveryUrl: string;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Entra only (multi-tenant: the first tenant). */
  tenantId?: string;
  /** Multi-tenant only: <url>/organizations/v2.0, what a relying party is configured with. */
  authority?: string;
  /** Multi-tenant only: the tenant ids served. */
  tenants?: string[];
  /** Live list: accounts pushed here can log in (their custom claims must exist at start to be released). Multi-tenant: a copy. */
  accounts: UpstreamAccount[];
  clients: UpstreamClient[];
  /** The private JWK (RS256, with kid) that signs this upstream's ID tokens: for tests that forge tokens. */
  signingKey: Readonly<Record<string, unknown>>;
  /** Tests only: every successful token response passes through `rewrite` until it is unset. */
  interceptTokenResponses(rewrite: TokenResponseRewrite | undefined): void;
  /** From now on the token endpoint answers `status` with an HTML body, as a failing IdP does (undefined: normal again). */
  failTokenRequests(status: number | undefined): void;
  /** From now on the JWKS is rewritten (e.g. a rotated key published beside the old); undefined: as it is. */
  interceptJwks(rewrite: TokenResponseRewrite | undefined): void;
  /** Tests only: `listener` sees every request's method, path and headers as they arrive (undefined: stop). */
  observeRequests(listener: ((request: ObservedRequest) => void) | undefined): void;
  /**
   * Logs `username` in through the upstream's pages, answering consent, and returns the URL it
   * finally redirects to on the client's redirect_uri (code, state, iss — or error).
   */
  login(authorizationUrl: string | URL, username: string, options?: UpstreamLoginOptions): Promise<string>;
  /** A browser to pass as `login(..., { browser })` to keep the upstream session between logins. */
  newBrowser(): UpstreamBrowser;
  close(): Promise<void>;
};

/** One provider at a path prefix. */
type Mount = { mount: string; discoveryPath: string; interactionPath: string; tokenPath: string; jwksPath: string; provider: StandInProvider; tenantId?: string };

export async function startUpstream(options: UpstreamOptions): Promise<Upstream> {
  const { kind } = options;
  const multi = kind === 'entra' ? options.multiTenant : undefined;
  const tenants = new Map(Object.entries(multi ? (multi.tenants ?? defaultTenantAccounts()) : {}));
  const tenantId = multi ? ([...tenants.keys()][0] ?? DEFAULT_ENTRA_TENANT_ID) : (options.tenantId ?? DEFAULT_ENTRA_TENANT_ID);
  if (!multi) tenants.set(tenantId, options.accounts ?? defaultAccounts(kind, { tenantId }));
  if (kind === 'entra') for (const [tid, list] of tenants) for (const account of list) account.claims.tid ??= tid;
  const allAccounts = [...tenants.values()].flat();
  const clients = options.clients.map((c) => ({ ...c, redirect_uris: [...c.redirect_uris] }));
  const redirectUris = () => clients.flatMap((c) => c.redirect_uris);

  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `${kind}-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };

  const server: Server = createServer();
  await listenOn(server, options.port ?? 0, '127.0.0.1', `the ${kind}-shaped stand-in upstream IdP`);
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const mounts: Mount[] = [];
  for (const [tid, accounts] of tenants) {
    const { issuer, mount, discoveryPath, routes } = shape(kind, url, tid);
    const interactionPath = `${mount}/interaction/`;
    const provider = await createStandInProvider({ kind, issuer, routes, interactionPath, clients, accounts, claimAccounts: allAccounts, signingKey, apis: options.apis ?? [] });
    mounts.push({ mount, discoveryPath, interactionPath, tokenPath: routes.token ?? '/token', jwksPath: routes.jwks ?? '/jwks', provider, ...(kind === 'entra' ? { tenantId: tid } : {}) });
  }
  const single = shape(kind, url, tenantId);

  let tokenRewrite: TokenResponseRewrite | undefined;
  let tokenFailure: number | undefined;
  let jwksRewrite: TokenResponseRewrite | undefined;
  let observer: ((request: ObservedRequest) => void) | undefined;
  let authority: TenantAuthority | undefined;
  /** Hands a request to a provider; oidc-provider derives its mount (for every URL it prints) from originalUrl minus url. */
  const forward = (target: Mount, req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, inner: string) => {
    const path = inner.split('?')[0];
    if (tokenFailure !== undefined && req.method === 'POST' && path === target.tokenPath) {
      res.writeHead(tokenFailure, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
      return;
    }
    if (tokenRewrite && req.method === 'POST' && path === target.tokenPath) rewriteJsonBody(res, tokenRewrite);
    if (jwksRewrite && req.method === 'GET' && path === target.jwksPath) rewriteJsonBody(res, jwksRewrite);
    if (authority && target.tenantId) {
      authority.watch(res, target.tenantId);
      // A tenant's own discovery document must not promise the `iss` the multi-tenant mode drops.
      if (path === '/.well-known/openid-configuration') rewriteJsonBody(res, ({ authorization_response_iss_parameter_supported: _, ...doc }) => doc);
    }
    req.originalUrl = `${target.mount}${inner}`;
    req.url = inner;
    target.provider.handle(req, res);
  };
  if (multi) {
    authority = createTenantAuthority({
      url,
      authority: multi.authority ?? 'organizations',
      tenants,
      redirectUris,
      forward: (tid, req, res, inner) => forward(mounts.find((m) => m.tenantId === tid) as Mount, req, res, inner),
    });
  }

  const fail = (res: ServerResponse) => (error: unknown) => {
    if (!res.headersSent) sendHtml(res, 500, page('Error', `<p data-error>${escapeHtml(String(error))}</p>`));
    else res.destroy();
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q === -1 ? raw : raw.slice(0, q);
    const query = q === -1 ? '' : raw.slice(q);
    observer?.({ method: req.method ?? 'GET', path: pathname, headers: req.headers });

    if (authority?.handles(pathname)) {
      authority.route(req, res, pathname, query).catch(fail(res));
      return;
    }
    for (const target of mounts) {
      if (pathname.startsWith(target.interactionPath)) {
        target.provider.interaction(req, res, pathname.slice(target.interactionPath.length)).catch(fail(res));
        return;
      }
      let inner: string | undefined;
      if (pathname === target.discoveryPath) inner = `/.well-known/openid-configuration${query}`;
      else if (pathname.startsWith(`${target.mount}/`) && !pathname.startsWith(`${target.mount}/.well-known/openid-configuration`)) {
        inner = raw.slice(target.mount.length);
      }
      if (inner !== undefined) {
        forward(target, req, res, inner);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  });

  let closed: Promise<void> | undefined;
  const issuer = authority?.issuer ?? single.issuer;
  const discoveryUrl = `${(authority?.authority ?? single.issuer).replace(/\/$/, '')}/.well-known/openid-configuration`;
  return {
    kind,
    issuer,
    discoveryUrl,
    url,
    ...(kind === 'entra' ? { tenantId } : {}),
    ...(authority ? { authority: authority.authority, tenants: [...tenants.keys()] } : {}),
    accounts: multi ? allAccounts : (tenants.get(tenantId) as UpstreamAccount[]),
    clients,
    signingKey: Object.freeze({ ...signingKey }),
    interceptTokenResponses(rewrite) {
      tokenRewrite = rewrite;
    },
    failTokenRequests(status) {
      tokenFailure = status;
    },
    interceptJwks(rewrite) {
      jwksRewrite = rewrite;
    },
    observeRequests(listener) {
      observer = listener;
    },
    login: (authorizationUrl, username, loginOptions) => driveLogin(authorizationUrl, username, redirectUris(), loginOptions),
    newBrowser: () => new UpstreamBrowser(),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
