// The authorization request after validation: kept server-side (bound to the browser that made
// it) while the person logs in, steps up and consents; then a code or an error goes back.
// Order of decisions (OIDC Core §3.1.2.3–§3.1.2.4): login (prompt, session) → step-up (acr_values,
// max_age) → consent → code. prompt=none turns every interaction into an error instead.
// Policies (grant authorization_code) are decided once the person is known, before step-up: a deny
// ends the request with access_denied; a step_up obligation adds its acr / max_age to the request's
// own; a consent obligation is the consent page, as always.
import { findClient } from '../clients/directory.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import { hashId, randomId, startBrowserLogin, upstreamForEmail } from '../federation/browser-login.ts';
import type { PersonGrant } from '../grants/person-grant.ts';
import { OAuthError } from '../oauth/errors.ts';
import { decideObligations } from '../obligations/decide.ts';
import { stepUpSatisfied } from '../obligations/step-up.ts';
import type { StepUp } from '../obligations/types.ts';
import type { SessionRecord } from '../store/ports.ts';
import { issueCode } from './code.ts';
import { consentCovers, rememberConsent } from './consent.ts';
import { AuthorizePageError, type AuthorizationRequest, type Target } from './request.ts';

/** `staleSid`: with prompt=login, the session the request arrived with, which must not count. */
export type Pending = { id: string; request: AuthorizationRequest & { staleSid?: string }; createdAt: number; client: ClientConfig };

/** What the browser sees next. */
export type Next =
  | { kind: 'redirect'; location: string }
  | { kind: 'consent'; pending: Pending; session: SessionRecord }
  | { kind: 'answer'; target: Target; client: ClientConfig; result: { code: string } | { error: OAuthError } };

export const continuePath = (id: string, steppedUp = false): string => `/authorize/continue?id=${encodeURIComponent(id)}${steppedUp ? '&stepped_up=1' : ''}`;

export async function beginAuthorization(deps: Deps, request: AuthorizationRequest, browserId: string, session: SessionRecord | undefined): Promise<string> {
  const id = randomId();
  const now = deps.now();
  const staleSid = request.prompt.includes('login') ? session?.sid : undefined;
  await deps.store.authorizations.saveRequest({
    idHash: hashId(id),
    browserHash: hashId(browserId),
    clientId: request.clientId,
    request: { ...request, ...(staleSid ? { staleSid } : {}) },
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

export type Browser = { browserId: string; session: SessionRecord | undefined; steppedUp: boolean };

export async function continueAuthorization(deps: Deps, pending: Pending, browser: Browser): Promise<Next> {
  const checked = await loginAndStepUp(deps, pending, browser);
  if ('next' in checked) return checked.next;
  const { session } = checked;

  // 4. Consent.
  if (await needsConsent(deps, pending, session)) {
    if (pending.request.prompt.includes('none')) return finish(deps, pending, { error: new OAuthError('consent_required', 'the person has not consented') });
    return { kind: 'consent', pending, session };
  }

  // 5. The code.
  return grant(deps, pending, session);
}

/** Steps 1 to 3: either the session that may have a code, or where the browser goes instead. */
async function loginAndStepUp(deps: Deps, pending: Pending, { browserId, session, steppedUp }: Browser): Promise<{ next: Next } | { session: SessionRecord }> {
  const { request, createdAt } = pending;
  const promptNone = request.prompt.includes('none');
  const requirements = { acrValues: request.acrValues?.join(' '), maxAge: request.maxAge };
  const go = (location: string) => ({ next: { kind: 'redirect' as const, location } });
  const end = async (error: OAuthError) => ({ next: await finish(deps, pending, { error }) });

  // 1. Login: none yet, or prompt=login and this is still the session the request came with.
  if (!session || (request.staleSid !== undefined && session.sid === request.staleSid)) {
    if (promptNone) return end(new OAuthError('login_required', 'the person is not signed in'));
    const upstream = session?.upstreamId ?? (request.loginHint ? upstreamForEmail(deps, request.loginHint) : undefined);
    if (!upstream) return go(`/login?return_to=${encodeURIComponent(continuePath(pending.id))}`);
    const url = await startBrowserLogin(deps, upstream, {
      browserId,
      returnTo: continuePath(pending.id, true),
      ...definedOnly(requirements),
      ...(request.prompt.includes('login') ? { prompt: 'login' as const } : {}),
      ...(request.loginHint ? { loginHint: request.loginHint } : {}),
    });
    return go(url.href);
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
    const url = await startBrowserLogin(deps, session.upstreamId, { browserId, returnTo: continuePath(pending.id, true), prompt: 'login', ...definedOnly(wanted) });
    return go(url.href);
  }
  return { session };
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
  return grant(deps, pending, checked.session);
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

async function grant(deps: Deps, pending: Pending, session: SessionRecord): Promise<Next> {
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
async function finish(deps: Deps, pending: Pending, result: { error: OAuthError }): Promise<Next> {
  await claim(deps, pending);
  return answer(pending, result);
}

async function claim(deps: Deps, pending: Pending): Promise<void> {
  if (!(await deps.store.authorizations.deleteRequest(hashId(pending.id)))) {
    throw new AuthorizePageError('Request expired', 'This sign-in request has already been answered. Please go back to the application.', 'request_already_answered');
  }
}

function answer(pending: Pending, result: { code: string } | { error: OAuthError }): Next {
  const { clientId, redirectUri, responseMode, state } = pending.request;
  return { kind: 'answer', target: { clientId, redirectUri, responseMode, state }, client: pending.client, result };
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
