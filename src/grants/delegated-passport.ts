// Issuing a Passport on behalf of someone: the steps token exchange and JWT bearer (and later CIBA)
// share, in order: 1 the target resource  2 only narrowing against the subject token  3 the one
// delegation policy, then the policies of config/policies/ (deny, step up, or pause for approval:
// src/consent/pause-exchange.ts)  4 the delegation (joined, or started with its budget)  5 mint with
// act, did, provenance  6 record the lineage. Nothing is written before every check has passed.
// An approved paused request comes back here with its approval id: the policies were satisfied.
import { uuidv7 } from '../oauth/ids.ts';
import type { ClientConfig } from '../config/schema.ts';
import { actorsOf, nestAct } from '../delegation/act.ts';
import { budgetClaim, isSpent, toDelegationBudget } from '../delegation/budget.ts';
import { detailsWithin } from '../delegation/details.ts';
import { decideDelegation } from '../delegation/policy.ts';
import { chainStates } from '../agents/state.ts';
import type { SubjectToken } from '../delegation/subject-token.ts';
import { tokenTypes } from '../delegation/token-types.ts';
import type { Deps } from '../deps.ts';
import { checkAuthorizationDetails, type AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import { passportIdentityClaims } from '../oauth/identity-scopes.ts';
import { mintPassport, type PassportClaims } from '../passports/mint.ts';
import { requireDpopForResource, requireHolder } from '../dpop/binding.ts';
import { applyExchangePolicies, type ExchangeGrant, type ExchangePolicyDeps } from '../consent/pause-exchange.ts';
import type { Paused } from '../obligations/pending.ts';
import type { DpopBinding } from '../dpop/request.ts';
import type { TokenResponse } from './types.ts';
import type { ResourceChoice, Trail } from '../audit/trail.ts';

/** What issuing a delegated Passport reads: config, keys and store, and what the policies (a pause) read. */
export type DelegatedPassportDeps = ExchangePolicyDeps & Pick<Deps, 'config' | 'detailsTypes' | 'keyring' | 'issuer' | 'store'>;

export type DelegatedAsk = {
  deps: DelegatedPassportDeps;
  client: ClientConfig;
  subject: SubjectToken;
  /** resource / audience parameters: at most one target. */
  targets: readonly string[];
  scopes: readonly string[];
  rawDetails?: string | undefined;
  /** The request's DPoP proof key: the new Passport is bound to it (never to the subject token's key). */
  dpop?: DpopBinding | undefined;
  receipt: string;
  now: number;
  /** Which grant asks, for the policies (default token_exchange). */
  grant?: ExchangeGrant | undefined;
  /** An approved paused request (grants/approved-exchange.ts): the Passport names the approval. */
  approvalId?: string | undefined;
  trail: Trail;
  /** How the caller chose its one target, when it did (JWT bearer, an approved request). */
  targetBy?: ResourceChoice | undefined;
};

export type DelegatedPassport = { token: string; claims: PassportClaims; ttlSeconds: number; newDelegation: boolean };

/** The Passport, or the pause a policy decided (nothing written but the approval: the caller answers it). An approved request is never paused again. */
export async function issueDelegatedPassport(ask: DelegatedAsk & { approvalId: string }): Promise<DelegatedPassport>;
export async function issueDelegatedPassport(ask: DelegatedAsk): Promise<DelegatedPassport | Paused>;
export async function issueDelegatedPassport(ask: DelegatedAsk): Promise<DelegatedPassport | Paused> {
  const { deps, client, subject, now, trail } = ask;
  const { config } = deps;

  // 1. The target: the one named, else the subject Passport's own resource, else the client's default.
  trail.at = 'resource';
  const distinct = [...new Set(ask.targets)];
  if (distinct.length > 1) throw new OAuthError('invalid_target', 'only one resource or audience per request is supported');
  const subjectResource = subject.audience !== undefined && config.resources.has(subject.audience) ? subject.audience : undefined;
  const target = distinct[0] ?? subjectResource ?? client.default_resource ?? (Object.keys(client.resources).length === 1 ? Object.keys(client.resources)[0] : undefined);
  if (target === undefined) throw new OAuthError('invalid_target', 'resource or audience is required');
  const resource = config.resources.get(target);
  if (!resource) throw new OAuthError('invalid_target', 'the resource or audience is unknown', { reason: 'unknown_target' });
  trail.resource = { id: target, by: ask.targetBy ?? (distinct.length ? 'asked' : target === subjectResource ? 'subject_token' : client.default_resource !== undefined ? 'client_default' : 'only_allowed') };

  // 2. Only narrowing. A Passport for a resource bounds the audience (itself or its declared
  //    downstream resources) and, at that same resource, the scopes and authorization details.
  if (subjectResource !== undefined && target !== subjectResource && !config.resources.get(subjectResource)?.downstream.includes(target)) {
    throw new OAuthError('invalid_target', 'the audience is wider than the subject token\'s', { reason: 'audience_widened' });
  }
  const sameResource = subjectResource === target;
  const policyScopes = client.resources[target]?.scopes ?? [];
  trail.at = 'scopes';
  trail.scopes = { asked: [...ask.scopes] };
  let scopes: string[];
  if (ask.scopes.length) {
    if (sameResource) {
      const wider = ask.scopes.filter((s) => !subject.scopes.includes(s));
      if (wider.length) throw new OAuthError('invalid_scope', `scope wider than the subject token's: ${wider.slice(0, 5).join(' ').slice(0, 200)}`, { reason: 'scope_widened' });
    }
    scopes = [...ask.scopes];
  } else {
    scopes = sameResource ? subject.scopes.filter((s) => policyScopes.includes(s)) : [...policyScopes];
    // Nothing asked: the subject token's scopes the client's policy does not allow are left out.
    const dropped = sameResource ? subject.scopes.filter((s) => !policyScopes.includes(s)) : [];
    if (dropped.length) trail.scopes.dropped = Object.fromEntries(dropped.map((s) => [s, 'not_allowed_by_client_policy']));
  }
  trail.at = 'authorization_details';
  let details: AuthorizationDetail[] = [];
  if (ask.rawDetails !== undefined) {
    const check = checkAuthorizationDetails(ask.rawDetails, deps.detailsTypes.get(target) ?? new Map(), client.resources[target]?.authorization_details_types ?? []);
    if (!check.ok) throw new OAuthError('invalid_authorization_details', check.detail, { reason: check.reason });
    details = check.details;
    if (sameResource && !detailsWithin(details, subject.details)) {
      throw new OAuthError('invalid_authorization_details', 'authorization_details wider than the subject token\'s', { reason: 'details_widened' });
    }
  }
  // A bound subject token is exchanged by its holder (a proof with its key), unless the policy
  // lets this client present bound tokens it was handed on purpose, with its own key: a bound
  // subject token never turns into a Bearer Passport.
  trail.at = 'dpop_binding';
  if (client.delegation?.subject_token_binding !== 'any') requireHolder(subject.boundJkt, ask.dpop, 'subject token');
  else if (subject.boundJkt !== undefined && !ask.dpop) {
    throw new OAuthError('invalid_dpop_proof', 'the subject token is DPoP-bound: send a DPoP proof with this client\'s key', { reason: 'subject_token_bound_no_proof' });
  }
  requireDpopForResource(resource, ask.dpop);
  const remaining = subject.exp - now;
  if (remaining <= 0) throw new OAuthError('invalid_request', 'subject_token is invalid', { reason: 'subject_token_expired' });

  // 3. The policy: whom, where, what, how deep, how long.
  trail.at = 'delegation_policy';
  const chain = [client.client_id, ...actorsOf(subject.act)];
  const states = await chainStates(deps.store.agentStates, config.clients, chain, client);
  const verdict = decideDelegation({
    actor: client,
    subject: subject.represented,
    resource: target,
    scopes,
    details,
    chain,
    states,
    ttlSeconds: resource.passport_ttl_seconds ?? config.main.passports.ttl_seconds,
    dpop: ask.dpop !== undefined,
    clients: config.clients,
  });
  trail.delegation = { verdict: verdict.ok ? 'allowed' : verdict.reason, chain };
  if (!verdict.ok) throw new OAuthError(verdict.code, verdict.description, { reason: verdict.reason });
  trail.at = 'obligations';
  if (ask.approvalId === undefined) {
    const paused = await applyExchangePolicies({ deps, client, subject, grant: ask.grant ?? 'token_exchange', target, scopes, details, dpop: ask.dpop, now, trail });
    if (paused) return paused;
  }
  const ttlSeconds = Math.min(verdict.ttlSeconds, remaining);

  // 4. The delegation: the subject's (still live), or a new one with this resource's budget.
  trail.at = 'delegation';
  let delegation;
  let newDelegation = false;
  if (subject.did !== undefined) {
    delegation = await deps.store.delegations.find(subject.did);
    if (!delegation || delegation.revokedAt !== undefined || delegation.expiresAt <= now) throw new OAuthError('invalid_grant', 'the delegation was revoked', { reason: 'delegation_revoked' });
    if (isSpent(delegation)) throw new OAuthError('invalid_grant', 'the delegation\'s budget is spent', { reason: 'budget_spent' });
  } else {
    newDelegation = true;
    delegation = {
      did: uuidv7(),
      sub: subjectId(subject),
      clientId: client.client_id,
      resource: target,
      origin: subject.origin,
      rootJti: subject.jti,
      createdAt: now,
      expiresAt: subject.exp,
      budget: toDelegationBudget(client.resources[target]?.budget),
    };
  }

  // 5. Mint: the subject stays the subject; the client becomes the acting party on top of the chain.
  trail.at = 'mint';
  const passport = await mintPassport(deps.keyring, config.resources.get(target)?.signing_alg ?? config.main.passports.signing_alg, {
    issuer: deps.issuer,
    subject: subjectId(subject),
    clientId: client.client_id,
    audience: target,
    scopes,
    authorizationDetails: details,
    identity: subject.represented.kind === 'person' ? passportIdentityClaims(subject.claims, client.claims) : undefined,
    authentication: subject.authentication,
    act: nestAct(client.client_id, subject.act),
    delegationId: delegation.did,
    budget: budgetClaim(delegation.budget),
    pins: resource.pins,
    dpopJkt: ask.dpop?.jkt,
    approvalId: ask.approvalId,
    ttlSeconds,
    receipt: ask.receipt,
    now,
  });

  // 6. Record: the link to the subject token, with the delegation it starts (if new) in one transaction.
  const link = { jti: passport.claims.jti, parentJti: subject.jti, did: delegation.did, clientId: client.client_id, sub: passport.claims.sub, expiresAt: passport.claims.exp };
  await deps.store.lineage.record(link, now, newDelegation ? delegation : undefined);
  return { ...passport, ttlSeconds, newDelegation };
}

const subjectId = (subject: SubjectToken): string => (subject.represented.kind === 'person' ? subject.represented.sub : subject.represented.clientId);


/** The token response for a delegated Passport; token exchange also says what it issued (RFC 8693 §2.2.1). */
export function delegatedResponse(passport: DelegatedPassport, exchanged: boolean): TokenResponse {
  const { claims } = passport;
  return {
    access_token: passport.token,
    ...(exchanged ? { issued_token_type: tokenTypes.accessToken } : {}),
    token_type: claims.cnf ? 'DPoP' : 'Bearer',
    expires_in: passport.ttlSeconds,
    ...(claims.scope ? { scope: claims.scope } : {}),
    ...(claims.authorization_details ? { authorization_details: claims.authorization_details } : {}),
  };
}

/** What every receipt of a delegated Passport records, whichever grant issued it. */
export function delegatedReceiptDetails(passport: DelegatedPassport, subject: SubjectToken): Record<string, unknown> {
  const { claims } = passport;
  return {
    aud: claims.aud,
    scope: claims.scope ?? '',
    exp: claims.exp,
    did: claims.did,
    new_delegation: passport.newDelegation,
    act: claims.act,
    subject_origin: subject.origin,
    subject_jti: subject.jti ?? null,
    // The subject Passport's own receipt: explain follows the chain back through it.
    ...(subject.receipt !== undefined ? { subject_receipt: subject.receipt } : {}),
    dpop_jkt: claims.cnf?.jkt ?? null,
    authorization_details_types: claims.authorization_details?.map((d) => d.type) ?? [],
  };
}
