// Browser login through an upstream: start (state, nonce and PKCE verifier kept server-side,
// bound to the browser) and finish (single-use state, same browser, same upstream, then the
// checks of completeUpstreamLogin, then a session). Secrets in cookies are stored only hashed.
// Every start counts against the page limits (rate_limits.sign_in_pages per browser,
// address_sign_in_pages per source address) before anything is stored or asked of the upstream.
import type { Deps } from '../deps.ts';
import type { CanonicalClaims } from '../claims/canonical.ts';
import type { Visitor } from '../limits/limits.ts';
import { UpstreamError } from './connector.ts';
import { completeUpstreamLogin } from './login.ts';
import { hashId, randomId } from '../oauth/ids.ts';

export const pendingLoginSeconds = 600;

/** Only same-origin paths: anything else would make the login an open redirector. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f]/.test(value) || value.length > 2048) return '/session';
  return value;
}

/** Home-realm discovery: the upstream that owns the e-mail's domain. */
export function upstreamForEmail(deps: Deps, email: string): string | undefined {
  const domain = email.trim().toLowerCase().split('@')[1];
  if (!domain) return undefined;
  for (const upstream of deps.config.upstreams.values()) if (upstream.email_domains.some((d) => d.toLowerCase() === domain)) return upstream.id;
  return undefined;
}

export async function startBrowserLogin(
  deps: Deps,
  upstreamId: string,
  options: { browserId: string; visitor: Visitor; returnTo: string; acrValues?: string; maxAge?: number; prompt?: 'login'; loginHint?: string },
): Promise<URL> {
  await deps.rateLimits.signInStart(options.visitor);
  const connector = deps.connectors.get(upstreamId);
  if (!connector) throw new UpstreamError('rejected', 'unknown upstream');
  const state = randomId();
  const nonce = randomId();
  const codeVerifier = randomId();
  const url = await connector.loginUrl({
    redirectUri: callbackUri(deps, upstreamId),
    state,
    nonce,
    codeVerifier,
    acrValues: options.acrValues,
    maxAge: options.maxAge,
    prompt: options.prompt,
    loginHint: options.loginHint,
  });
  await deps.store.logins.savePending({
    stateHash: hashId(state),
    browserHash: hashId(options.browserId),
    upstreamId,
    nonce,
    codeVerifier,
    returnTo: safeReturnTo(options.returnTo),
    acrValues: options.acrValues,
    maxAge: options.maxAge,
    expiresAt: deps.now() + pendingLoginSeconds,
  });
  return url;
}

export async function finishBrowserLogin(
  deps: Deps,
  upstreamId: string,
  callbackUrl: URL,
  browserId: string | undefined,
): Promise<{ sessionId: string; returnTo: string; claims: CanonicalClaims & { sub: string } }> {
  const now = deps.now();
  const state = callbackUrl.searchParams.get('state');
  if (!state) throw new UpstreamError('rejected', 'callback without state');
  // Taken (burnt) on its first presentation, whoever presents it: a callback URL that leaked is
  // worth nothing afterwards, even to the browser it was made for.
  const pending = await deps.store.logins.takePending(hashId(state), now);
  if (!pending) throw new UpstreamError('rejected', 'unknown, used or expired state');
  if (!browserId) throw new UpstreamError('rejected', 'callback without browser binding');
  if (pending.browserHash !== hashId(browserId)) throw new UpstreamError('rejected', 'state belongs to another browser');
  if (pending.upstreamId !== upstreamId) throw new UpstreamError('rejected', 'state belongs to another upstream');
  const upstream = deps.config.upstreams.get(upstreamId);
  const connector = deps.connectors.get(upstreamId);
  const ruleSet = deps.mappings.get(upstreamId);
  if (!upstream || !connector || !ruleSet) throw new UpstreamError('rejected', 'unknown upstream');

  const login = await completeUpstreamLogin(
    deps.store,
    deps.receipts,
    connector,
    upstream,
    ruleSet,
    callbackUrl,
    { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier, maxAge: pending.maxAge },
    { acrValues: pending.acrValues?.split(' '), maxAge: pending.maxAge },
    now,
  ).catch((error: unknown) => {
    // The state is spent: say where the browser was going, so that an app waiting on it hears of the failure.
    if (!(error instanceof UpstreamError)) throw error;
    throw new UpstreamError(error.reason, error.message, { cause: error.cause, shown: error.shown, returnTo: pending.returnTo });
  });
  const sessionId = randomId();
  await deps.store.logins.saveSession({
    idHash: hashId(sessionId),
    sid: randomId(),
    sub: login.claims.sub,
    upstreamId,
    claims: login.claims,
    authTime: login.claims.auth_time ?? now,
    createdAt: now,
    expiresAt: now + deps.config.main.authorization.session_ttl_seconds,
  });
  return { sessionId, returnTo: pending.returnTo, claims: login.claims };
}

export const callbackPath = (upstreamId: string): string => `/callback/${encodeURIComponent(upstreamId)}`;
export const callbackUri = (deps: Deps, upstreamId: string): string => `${deps.issuer.replace(/\/$/, '')}${callbackPath(upstreamId)}`;
