// The authorization request after validation: kept server-side (bound to the browser that made
// it) while the person logs in, steps up and consents; then a code or an error goes back.
// Order of decisions (OIDC Core §3.1.2.3–§3.1.2.4): login (prompt, session) → step-up (acr_values,
// max_age) → consent → code. prompt=none turns every interaction into an error instead.
// Policies (grant authorization_code) are decided once the person is known, before step-up: a deny
// ends the request with access_denied; a step_up obligation adds its acr / max_age to the request's
// own; a consent obligation is the consent page, as always.
// An upstream that fails (5xx, unreachable, too slow) during the sign-in ends the request with
// temporarily_unavailable; the request is answered once, and so is the pushed request it came from.
import { findClient } from '../clients/directory.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { startBrowserLogin, upstreamForEmail } from '../federation/browser-login.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import { UpstreamError } from '../federation/connector.ts';
import type { PersonGrant } from '../grants/person-grant.ts';
import type { Visitor } from '../limits/limits.ts';
import { OAuthError } from '../oauth/errors.ts';
import { decideObligations } from '../consent/decide-obligations.ts';
import { stepUpSatisfied } from '../obligations/step-up.ts';
import { obligationOf, type TrailObligation } from '../audit/trail.ts';
import type { StepUp } from '../obligations/types.ts';
import type { SessionRecord } from '../store/ports.ts';
import { issueCode } from './code.ts';
import { consentCovers, rememberConsent } from './consent.ts';
import { AuthorizePageError, type AuthorizationRequest, type Target } from './request.ts';

/**
 * `staleSid`: with prompt=login, the session the request arrived with, which must not count.
 * `pushed`: the hashed id of the pushed request (PAR) it came from, used up when this one is answered.
 */
export type Pending = { id: string; request: AuthorizationRequest & { staleSid?: string; pushed?: string }; createdAt: number; client: ClientConfig };

/** What the browser sees next. */
export type Next =
  | { kind: 'redirect'; location: string }
  | { kind: 'consent'; pending: Pending; session: SessionRecord }
  | { kind: 'answer'; target: Target; client: ClientConfig; result: { code: string } | { error: OAuthError } };

/** The request's answer, for its app. */
export type Answer = Extract<Next, { kind: 'answer' }>;

export const continuePath = (id: string, steppedUp = false): string => `/authorize/continue?id=${encodeURIComponent(id)}${steppedUp ? '&stepped_up=1' : ''}`;

/** The pending request a sign-in's return_to continues, when it continues one. */
export function pendingIdOf(returnTo: string | undefined): string | undefined {
  if (!returnTo?.startsWith('/authorize/continue?')) return undefined;
  return new URLSearchParams(returnTo.slice('/authorize/continue?'.length)).get('id') ?? undefined;
}

/** What the app hears when the person's upstream fails (5xx, unreachable, too slow) during the sign-in (RFC 6749 §4.1.2.1). */
export const upstreamUnavailable = (): OAuthError => new OAuthError('temporarily_unavailable', 'the identity provider of the person is unavailable; try again later', { reason: 'upstream_unavailable' });

/**
 * Ends the pending request `id` of this browser with `error`, as the answer to its app: a sign-in
 * started for it failed. An unknown, answered or other browser's request is an AuthorizePageError.
 */
export async function abandonAuthorization(deps: Deps, id: string, browserId: string, error: OAuthError): Promise<Answer> {
  return finish(deps, await findPending(deps, id, browserId), { error });
}

export async function beginAuthorization(deps: Deps, request: AuthorizationRequest, browserId: string, session: SessionRecord | undefined, pushed?: string): Promise<string> {
  const id = randomId();
  const now = deps.now();
  const staleSid = request.prompt.includes('login') ? session?.sid : undefined;
  await deps.store.authorizations.saveRequest({
    idHash: hashId(id),
    browserHash: hashId(browserId),
    clientId: request.clientId,
    request: { ...request, ...(staleSid ? { staleSid } : {}), ...(pushed ? { pushed } : {}) },
    createdAt: now,
    expiresAt: now + deps.config.main.authorization.request_ttl_seconds,
  });
  return id;
}

export async function findPending(deps: Deps, id: string | undefined, browserId: string): Promise<Pending> {
  const record = id && id.length <= 64 ? await deps.store.authorizations.findRequest(hashId(id), deps.now()) : undefined;
  // Another browser's request id is as good as none: the request stays with whoever started it.
  if (!record || record.browserHash !== hashId(browserId)) {
    throw new AuthorizePageError('Request expired', 'This sign-in request has expired or was started in another browser. Please go back to the application and start again.', 'unknown_request');
  }
  const client = await findClient(deps, record.clientId);
  if (!client) throw new AuthorizePageError('Unknown application', 'This application is no longer registered.', 'client_gone');
  return { id: id as string, request: record.request as unknown as AuthorizationRequest, createdAt: record.createdAt, client };
}

/** `visitor`: whom a sign-in started here counts against (the page limits). */
export type Browser = { browserId: string; visitor: Visitor; session: SessionRecord | undefined; steppedUp: boolean };

export async function continueAuthorization(deps: Deps, pending: Pending, browser: Browser): Promise<Next> {
  const checked = await loginAndStepUp(deps, pending, browser);
  if ('next' in checked) return checked.next;
  const { session, obligation } = checked;

  // 4. Consent.
  if (await needsConsent(deps, pending, session)) {
    if (pending.request.prompt.includes('none')) return finish(deps, pending, { error: new OAuthError('consent_required', 'the person has not consented') });
    return { kind: 'consent', pending, session };
  }

  // 5. The code.
  return grant(deps, pending, session, obligation);
}

/** Steps 1 to 3: either the session that may have a code, or where the browser goes instead. */
async function loginAndStepUp(deps: Deps, pending: Pending, { browserId, visitor, session, steppedUp }: Browser): Promise<{ next: Next } | { session: SessionRecord; obligation?: TrailObligation | undefined }> {
  const { request, createdAt } = pending;
  const promptNone = request.prompt.includes('none');
  const requirements = { acrValues: request.acrValues?.join(' '), maxAge: request.maxAge };
  const go = (location: string) => ({ next: { kind: 'redirect' as const, location } });
  const end = async (error: OAuthError) => ({ next: await finish(deps, pending, { error }) });
  // An upstream that is down as the sign-in starts: the app hears temporarily_unavailable.
  const signIn = async (upstreamId: string, options: Parameters<typeof startBrowserLogin>[2]) => {
    try {
      return go((await startBrowserLogin(deps, upstreamId, options)).href);
    } catch (error) {
      if (!(error instanceof UpstreamError && error.isOutage)) throw error;
      deps.log.warn({ reason: error.reason, detail: error.message }, 'upstream login failed');
      return end(upstreamUnavailable());
    }
  };

  // 1. Login: none yet, or prompt=login and this is still the session the request came with.
  if (!session || (request.staleSid !== undefined && session.sid === request.staleSid)) {
    if (promptNone) return end(new OAuthError('login_required', 'the person is not signed in'));
    const upstream = session?.upstreamId ?? (request.loginHint ? upstreamForEmail(deps, request.loginHint) : undefined);
    if (!upstream) return go(`/login?return_to=${encodeURIComponent(continuePath(pending.id))}`);
    return signIn(upstream, {
      browserId,
      visitor,
      returnTo: continuePath(pending.id, true),
      ...definedOnly(requirements),
      ...(request.prompt.includes('login') ? { prompt: 'login' as const } : {}),
      ...(request.loginHint ? { loginHint: request.loginHint } : {}),
    });
  }

  // 2. Policies, now that the person is known: a deny ends here; a step_up joins the request's own.
  const decision = await decideObligations(deps, {
    client: pending.client,
    grant: 'authorization_code',
    sub: session.sub,
    claims: session.claims,
    resource: request.resource,
    scopes: [...request.identityScopes, ...request.resourceScopes],
    details: request.authorizationDetails ?? [],
    now: deps.now(),
  });
  if (decision.decision === 'deny') return end(new OAuthError('access_denied', decision.reason, { reason: `policy_denied:${decision.policy}/${decision.rule}` }));
  const policyStepUp = decision.decision === 'obligations' ? decision.stepUp : undefined;

  // 3. Step-up: the session must meet acr_values and max_age (judged at the time of the request,
  // so that a login made for this request always counts). A login made for this request that
  // still falls short ends the request rather than looping.
  if (!meetsRequirements(session, request, createdAt) || (policyStepUp && !stepUpSatisfied(policyStepUp, sessionAuthentication(session), createdAt))) {
    if (promptNone) return end(new OAuthError('login_required', 'the session does not meet acr_values or max_age'));
    if (steppedUp && session.createdAt >= createdAt) return end(new OAuthError('access_denied', 'the upstream login did not meet acr_values or max_age'));
    const wanted = policyStepUp ? joinRequirements(requirements, policyStepUp) : requirements;
    return signIn(session.upstreamId, { browserId, visitor, returnTo: continuePath(pending.id, true), prompt: 'login', ...definedOnly(wanted) });
  }
  // The policy that let it through, for the receipts of the tokens (audit/trail.ts).
  return { session, obligation: obligationOf(decision) };
}

/** The session's authentication, as step-up obligations judge it. */
export const sessionAuthentication = (session: SessionRecord): { authTime: number; acr?: string | undefined } => ({
  authTime: session.authTime,
  acr: typeof session.claims.acr === 'string' ? session.claims.acr : undefined,
});

/**
 * The request's acr_values / max_age with a policy's step-up: the policy's acr is the one asked for
 * (the session must have exactly it), the smaller max_age wins.
 */
function joinRequirements(requested: { acrValues?: string | undefined; maxAge?: number | undefined }, stepUp: StepUp): { acrValues?: string | undefined; maxAge?: number | undefined } {
  const maxAge = requested.maxAge === undefined ? stepUp.maxAge : stepUp.maxAge === undefined ? requested.maxAge : Math.min(requested.maxAge, stepUp.maxAge);
  return { acrValues: stepUp.acr ?? requested.acrValues, maxAge };
}

/**
 * The consent page's answer. "Allow" passes login and step-up again: the form can be posted for a
 * request that never reached consent (its id is in the sign-in page's return_to), or after the
 * session changed, and must not skip prompt=login, acr_values or max_age.
 */
export async function decideConsent(deps: Deps, pending: Pending, browser: Browser, allow: boolean): Promise<Next> {
  if (!allow) return finish(deps, pending, { error: new OAuthError('access_denied', 'the person declined') });
  const checked = await loginAndStepUp(deps, pending, browser);
  if ('next' in checked) return checked.next;
  await rememberConsent(deps, checked.session.sub, pending.request);
  return grant(deps, pending, checked.session, checked.obligation);
}

async function needsConsent(deps: Deps, pending: Pending, session: SessionRecord): Promise<boolean> {
  if (pending.request.prompt.includes('consent')) return true;
  if (pending.client.skip_consent) return false;
  const remembered = await deps.store.consents.find(session.sub, pending.client.client_id);
  return !consentCovers(remembered, pending.request);
}

function meetsRequirements(session: SessionRecord, request: AuthorizationRequest, createdAt: number): boolean {
  const acr = typeof session.claims.acr === 'string' ? session.claims.acr : undefined;
  if (request.acrValues?.length && !(acr && request.acrValues.includes(acr))) return false;
  if (request.maxAge !== undefined && session.authTime + request.maxAge < createdAt) return false;
  return true;
}

async function grant(deps: Deps, pending: Pending, session: SessionRecord, obligation?: TrailObligation): Promise<Next> {
  const { request } = pending;
  // Claim the request before the code exists: two answers racing for it get one code between them.
  await claim(deps, pending);
  const claims = session.claims;
  const personGrant: PersonGrant = {
    sub: session.sub,
    clientId: request.clientId,
    identityScopes: request.identityScopes,
    resource: request.resource,
    resourceScopes: request.resourceScopes,
    authorizationDetails: request.authorizationDetails,
    nonce: request.nonce,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    dpopJkt: request.dpopJkt,
    authTime: session.authTime,
    acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    amr: Array.isArray(claims.amr) ? (claims.amr as string[]) : undefined,
    sid: session.sid,
    claims,
    ...(obligation ? { obligation } : {}),
  };
  const code = await issueCode(deps, personGrant);
  await deps.receipts.record({ event: 'authorization.granted',
    clientId: request.clientId,
    subject: session.sub,
    details: {
      scope: [...request.identityScopes, ...request.resourceScopes].join(' '),
      resource: request.resource ?? null,
      authorization_details_types: request.authorizationDetails?.map((d) => d.type) ?? [],
    },
  });
  return answer(pending, { code });
}

/** Every request ends once: with a code or an error, and its record goes. */
async function finish(deps: Deps, pending: Pending, result: { error: OAuthError }): Promise<Answer> {
  await claim(deps, pending);
  return answer(pending, result);
}

async function claim(deps: Deps, pending: Pending): Promise<void> {
  const answered = () => new AuthorizePageError('Request expired', 'This sign-in request has already been answered. Please go back to the application.', 'request_already_answered');
  if (!(await deps.store.authorizations.deleteRequest(hashId(pending.id)))) throw answered();
  // A pushed request answers once, whichever of its presentations (reloads in this browser) gets there first.
  const { pushed } = pending.request;
  if (pushed !== undefined && !(await deps.store.authorizations.completePushed(pushed, deps.now()))) throw answered();
}

/** An answer sent for a pushed request without a pending one (a request refused at once): it is used up too. */
export async function completePushed(deps: Deps, pushed: string | undefined): Promise<void> {
  if (pushed !== undefined) await deps.store.authorizations.completePushed(pushed, deps.now());
}

function answer(pending: Pending, result: { code: string } | { error: OAuthError }): Answer {
  const { clientId, redirectUri, responseMode, state } = pending.request;
  return { kind: 'answer', target: { clientId, redirectUri, responseMode, state }, client: pending.client, result };
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
