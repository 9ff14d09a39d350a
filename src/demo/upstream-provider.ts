// One stand-in OpenID provider (panva's oidc-provider) for one issuer, with the stand-in's own login
// and consent pages: what startUpstream mounts once per kind, or once per tenant behind an Entra
// multi-tenant authority. Demo and tests only.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACR_VALUES, amrFor, claimsConfig, type UpstreamAccount, type UpstreamKind } from './upstream-accounts.ts';
import { accessTokenClaims, resourceIndicators, type UpstreamApi } from './upstream-apis.ts';
import { consentPageHtml, escapeHtml, loginPageHtml, page, readForm, sendHtml, type InteractionDetails } from './upstream-pages.ts';

export type UpstreamClient = { client_id: string; client_secret: string; redirect_uris: string[] };

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
type ProviderModule = { default: ProviderConstructor; errors: { InvalidTarget: new () => Error; InvalidRequest: new (description: string) => Error } };

type PolicyClient = { clientId: string; clientAuthMethod: string };
const revokeOwnTokens = (InvalidRequest: ProviderModule['errors']['InvalidRequest']) => async (_ctx: unknown, client: PolicyClient, token: { clientId: string }) => {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new InvalidRequest('client is not authorized to revoke the presented token');
};

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

let loading: Promise<ProviderModule> | undefined;
function loadProvider(): Promise<ProviderModule> {
  // A non-literal specifier keeps TypeScript from looking for types the package doesn't have.
  const specifier: string = 'oidc-provider';
  loading ??= quietly(() => import(specifier)) as Promise<ProviderModule>;
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


export type ProviderSetup = {
  kind: UpstreamKind;
  issuer: string;
  routes: Record<string, string | undefined>;
  /** Path prefix of this provider's login and consent pages (…/interaction/<uid>). */
  interactionPath: string;
  clients: UpstreamClient[];
  /** The accounts that sign in here (a live list). */
  accounts: UpstreamAccount[];
  /** Every account whose custom claims must be releasable (all tenants' accounts share one claims map). */
  claimAccounts: UpstreamAccount[];
  /** Private JWK (RS256) that signs ID tokens and JWT access tokens. */
  signingKey: Record<string, unknown>;
  /** APIs it issues access tokens for (upstream-apis.ts). */
  apis: readonly UpstreamApi[];
};

export type StandInProvider = {
  /** oidc-provider's request handler: req.url relative to the mount, req.originalUrl the full path. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The login and consent pages at interactionPath + uid. */
  interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void>;
};

export async function createStandInProvider(setup: ProviderSetup): Promise<StandInProvider> {
  const { kind, issuer, routes, interactionPath, clients, accounts, signingKey } = setup;
  const { default: Provider, errors } = await loadProvider();
  const findByUsername = (username: string) => accounts.find((a) => a.username.toLowerCase() === username.trim().toLowerCase());

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
        claims: claimsConfig(kind, setup.claimAccounts),
        acrValues: ACR_VALUES[kind],
        routes,
        features: {
          devInteractions: { enabled: false },
          userinfo: { enabled: true },
          // Entra has no revocation endpoint, PAR or DPoP; the others do.
          // Only the client a token was issued to may revoke it (oidc-provider's default, stated so it does not warn).
          revocation: { enabled: kind !== 'entra', allowedPolicy: revokeOwnTokens(errors.InvalidRequest) },
          pushedAuthorizationRequests: { enabled: kind !== 'entra' },
          dPoP: { enabled: kind !== 'entra' },
          // Okta's RFC 7662 endpoint, for its opaque access tokens (Entra and Auth0 have none).
          // Any of its (confidential) clients may introspect any token, as an Okta API service app can.
          introspection: { enabled: kind === 'okta', allowedPolicy: async () => true },
          resourceIndicators: resourceIndicators(setup.apis, () => new errors.InvalidTarget()),
        },
        extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) => accessTokenClaims(kind, accounts.find((a) => a.id === token.accountId)),
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

  return { handle, interaction };
}
