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
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  ACR_VALUES,
  amrFor,
  claimsConfig,
  DEFAULT_ENTRA_TENANT_ID,
  defaultAccounts,
  type UpstreamAccount,
  type UpstreamKind,
} from './upstream-accounts.ts';
import { driveLogin, UpstreamBrowser, type UpstreamLoginOptions } from './upstream-browser.ts';
import { consentPageHtml, escapeHtml, loginPageHtml, page, readForm, sendHtml, type InteractionDetails } from './upstream-pages.ts';
import { shape } from './upstream-shapes.ts';

export { DEFAULT_ENTRA_TENANT_ID, defaultAccounts, ENTRA_GROUPS, SCOPE_CLAIMS } from './upstream-accounts.ts';
export type { UpstreamAccount, UpstreamKind } from './upstream-accounts.ts';
export { UpstreamBrowser, type UpstreamLoginOptions } from './upstream-browser.ts';

export type UpstreamClient = { client_id: string; client_secret: string; redirect_uris: string[] };

export type UpstreamOptions = {
  kind: UpstreamKind;
  clients: UpstreamClient[];
  /** Default: defaultAccounts(kind). Entra accounts without `tid` get the tenant's. */
  accounts?: UpstreamAccount[];
  /** Entra only; default DEFAULT_ENTRA_TENANT_ID. */
  tenantId?: string;
  /** Default 0: any free port on 127.0.0.1. The demo uses fixed ports from its config. */
  port?: number;
};

export type Upstream = {
  kind: UpstreamKind;
  /** Exactly what the ID token `iss` and the discovery document say. */
  issuer: string;
  discoveryUrl: string;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Entra only. */
  tenantId?: string;
  /** Live list: accounts pushed here can log in (their custom claims must exist at start to be released). */
  accounts: UpstreamAccount[];
  clients: UpstreamClient[];
  /**
   * Logs `username` in through the upstream's pages, answering consent, and returns the URL it
   * finally redirects to on the client's redirect_uri (code, state, iss — or error).
   */
  login(authorizationUrl: string | URL, username: string, options?: UpstreamLoginOptions): Promise<string>;
  /** A browser to pass as `login(..., { browser })` to keep the upstream session between logins. */
  newBrowser(): UpstreamBrowser;
  close(): Promise<void>;
};

// --- the parts of oidc-provider we use (it ships no types; @types/oidc-provider is not installed) ---

type KoaContext = { type: string; body: unknown };
type GrantInstance = {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
};
type OidcProvider = {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): GrantInstance; find(id: string): Promise<GrantInstance | undefined> };
  on(event: string, listener: (...args: unknown[]) => void): void;
};
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

/** oidc-provider's notices ("Unsupported runtime" on Node 20, dev-only defaults) are noise here. */
function quietly<T>(fn: () => T): T {
  const { warn, info } = console;
  const filter = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
    original(...args);
  };
  console.warn = filter(warn);
  console.info = filter(info);
  try {
    const result = fn();
    if (result instanceof Promise) {
      return result.finally(() => {
        console.warn = warn;
        console.info = info;
      }) as T;
    }
    console.warn = warn;
    console.info = info;
    return result;
  } catch (error) {
    console.warn = warn;
    console.info = info;
    throw error;
  }
}

let loading: Promise<ProviderConstructor> | undefined;
function loadProvider(): Promise<ProviderConstructor> {
  // A non-literal specifier keeps TypeScript from looking for types the package doesn't have.
  const specifier: string = 'oidc-provider';
  loading ??= quietly(() => import(specifier)).then((mod: { default: ProviderConstructor }) => mod.default);
  return loading;
}

/** A per-provider in-memory store (oidc-provider's default adapter warns and is process-global). */
function memoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const uids = new Map<string, string>();
  const userCodes = new Map<string, string>();
  const get = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  };
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      if (this.model === 'Session' && typeof payload.uid === 'string') uids.set(payload.uid, id);
      if (typeof payload.userCode === 'string') userCodes.set(payload.userCode, id);
    }
    async find(id: string) {
      return get(this.key(id));
    }
    async findByUid(uid: string) {
      const id = uids.get(uid);
      return id === undefined ? undefined : get(this.key(id));
    }
    async findByUserCode(userCode: string) {
      const id = userCodes.get(userCode);
      return id === undefined ? undefined : get(this.key(id));
    }
    async consume(id: string) {
      const payload = get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

export async function startUpstream(options: UpstreamOptions): Promise<Upstream> {
  const { kind } = options;
  const tenantId = options.tenantId ?? DEFAULT_ENTRA_TENANT_ID;
  const accounts = options.accounts ?? defaultAccounts(kind, { tenantId });
  if (kind === 'entra') for (const account of accounts) account.claims.tid ??= tenantId;
  const clients = options.clients.map((c) => ({ ...c, redirect_uris: [...c.redirect_uris] }));

  const Provider = await loadProvider();
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `${kind}-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };

  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const { issuer, mount, discoveryPath, routes } = shape(kind, url, tenantId);
  const interactionPath = `${mount}/interaction/`;

  const findByUsername = (username: string) =>
    accounts.find((a) => a.username.toLowerCase() === username.trim().toLowerCase());

  const provider = quietly(
    () =>
      new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.client_id,
          client_secret: c.client_secret,
          redirect_uris: c.redirect_uris,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          // oidc-provider accepts client_secret_post for a client_secret_basic client and vice versa.
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'RS256',
        })),
        jwks: { keys: [signingKey] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        adapter: memoryAdapter(),
        pkce: { required: () => true },
        responseTypes: ['code'],
        clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
        enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
        conformIdTokenClaims: false,
        claims: claimsConfig(kind, accounts),
        acrValues: ACR_VALUES[kind],
        routes,
        features: {
          devInteractions: { enabled: false },
          userinfo: { enabled: true },
          // Entra has no revocation endpoint, PAR or DPoP; the others do.
          revocation: { enabled: kind !== 'entra' },
          pushedAuthorizationRequests: { enabled: kind !== 'entra' },
          dPoP: { enabled: kind !== 'entra' },
        },
        interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${interactionPath}${interaction.uid}` },
        ttl: { AccessToken: 3600, AuthorizationCode: 600, IdToken: 3600, Interaction: 3600, Session: 86_400, Grant: 86_400, RefreshToken: 86_400 },
        clientBasedCORS: () => false,
        async findAccount(_ctx: unknown, sub: string) {
          const account = accounts.find((a) => a.id === sub);
          if (!account) return undefined;
          return { accountId: account.id, claims: async () => ({ ...account.claims, sub: account.id }) };
        },
        async renderError(ctx: KoaContext, out: Record<string, string>) {
          ctx.type = 'html';
          ctx.body = page(
            'Error',
            Object.entries(out).map(([k, v]) => `<p data-${escapeHtml(k)}>${escapeHtml(k)}: ${escapeHtml(String(v))}</p>`).join(''),
          );
        },
      }),
  );
  // oidc-provider answers unexpected errors with a bare server_error; say why on stderr.
  provider.on('server_error', (_ctx, error) => console.error(`${kind} upstream stand-in server_error:`, error));
  const handle = provider.callback();

  const loginPage = (details: InteractionDetails, error?: string) => loginPageHtml(kind, interactionPath, details, error);
  const consentPage = (details: InteractionDetails) => consentPageHtml(kind, interactionPath, details);

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (error) {
      sendHtml(res, 400, page('Error', `<p data-error>${escapeHtml((error as Error).message)}</p>`));
      return;
    }
    if (details.uid !== uid) {
      sendHtml(res, 400, page('Error', '<p data-error>interaction mismatch</p>'));
      return;
    }
    const { name } = details.prompt;
    if (req.method === 'GET') {
      if (name === 'login') sendHtml(res, 200, loginPage(details));
      else if (name === 'consent') sendHtml(res, 200, consentPage(details));
      else sendHtml(res, 501, page('Error', `<p data-error>prompt ${escapeHtml(name)} is not offered by this stand-in</p>`));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const form = await readForm(req);
    if (form.get('prompt') !== name) {
      sendHtml(res, 400, page('Error', '<p data-error>unexpected form for this step</p>'));
      return;
    }
    if (name === 'login') {
      const account = findByUsername(form.get('username') ?? '');
      if (!account) {
        sendHtml(res, 401, loginPage(details, 'We could not find an account with that username.'));
        return;
      }
      const acr = form.get('acr')?.trim() || undefined;
      const amrField = form.get('amr')?.trim();
      const amr = amrField ? amrField.split(/\s+/) : amrFor(acr);
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.id, remember: true, amr, ...(acr ? { acr } : {}) } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    // consent
    if (form.get('decision') !== 'allow') {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user declined to consent.' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const { grantId, session, params } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session!.accountId!, clientId: String(params.client_id) });
    if (!grant) throw new Error('grant not found');
    const missing = details.prompt.details;
    if (Array.isArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    if (missing.missingResourceScopes && typeof missing.missingResourceScopes === 'object') {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes as Record<string, string[]>)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  server.on('request', (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q === -1 ? raw : raw.slice(0, q);
    const query = q === -1 ? '' : raw.slice(q);

    if (pathname.startsWith(interactionPath)) {
      const uid = pathname.slice(interactionPath.length);
      interaction(req, res, uid).catch((error: unknown) => {
        if (!res.headersSent) sendHtml(res, 500, page('Error', `<p data-error>${escapeHtml(String(error))}</p>`));
        else res.destroy();
      });
      return;
    }

    let inner: string | undefined;
    if (pathname === discoveryPath) inner = `/.well-known/openid-configuration${query}`;
    else if (pathname.startsWith(`${mount}/`) && !pathname.startsWith(`${mount}/.well-known/openid-configuration`)) {
      inner = raw.slice(mount.length);
    }
    if (inner === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    // oidc-provider derives its mount path (for every URL it prints) from originalUrl minus url.
    req.originalUrl = `${mount}${inner}`;
    req.url = inner;
    handle(req, res);
  });

  let closed: Promise<void> | undefined;
  const discoveryUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return {
    kind,
    issuer,
    discoveryUrl,
    url,
    ...(kind === 'entra' ? { tenantId } : {}),
    accounts,
    clients,
    login: (authorizationUrl, username, loginOptions) =>
      driveLogin(authorizationUrl, username, clients.flatMap((c) => c.redirect_uris), loginOptions),
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
