// Policies at a delegated issuance (token exchange, JWT bearer), after the delegation policy has
// allowed it and before anything is written: 1 decide  2 deny → access_denied  3 step_up without
// consent → satisfied by the subject's authentication, or insufficient_user_authentication
// 4 consent → PAUSE: an approval (kind exchange) holding everything needed to mint exactly this
// Passport later, returned as a Paused result (the caller answers authorization_pending with its
// auth_req_id); a step_up of the same rule goes with it (the approval's `stepUp`): each approver's
// own authentication must meet it when they approve (consent/approvals.ts). Nothing is minted until
// it is approved; grants/approved-exchange.ts resumes it.
// access_denied rather than invalid_grant for a refusal: the grant is valid, the policy refuses
// it, and it is the same answer an approver's denial gets when the agent polls (CIBA Core §11).
import type { ClientConfig } from '../config/schema.ts';
import { cibaGrant } from '../oauth/grant-types.ts';
import { openApproval, type OpenApprovalDeps } from './approvals.ts';
import { actorsOf } from '../delegation/act.ts';
import type { SubjectToken } from '../delegation/subject-token.ts';
import type { DpopBinding } from '../dpop/request.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import { resolveApprovers } from './resolve-approvers.ts';
import { decideObligations } from './decide-obligations.ts';
import { StepUpError, type Paused } from '../obligations/pending.ts';
import { stepUpRecord, stepUpSatisfied, type StepUpRecord } from '../obligations/step-up.ts';
import { obligationOf, type Trail } from '../audit/trail.ts';

export type ExchangeGrant = 'token_exchange' | 'jwt_bearer';

/** What a paused exchange keeps (the approval's `request`): the inbox reads the first fields, the resumption `exchange`. */
export type PausedExchange = {
  agent: string;
  actChain: string[];
  identityScopes: string[];
  resource: string;
  resourceScopes: string[];
  authorizationDetails: AuthorizationDetail[];
  /** The rule's step-up, which each approver's own authentication must meet. */
  stepUp?: StepUpRecord | undefined;
  exchange: { version: 1; grant: ExchangeGrant; subject: SubjectToken; dpopJkt?: string | undefined; policy: string; rule: string };
};

/** What the policies read (config, store) and what a pause opens an approval with. */
export type ExchangePolicyDeps = OpenApprovalDeps;

export type ExchangeFacts = {
  deps: ExchangePolicyDeps;
  client: ClientConfig;
  subject: SubjectToken;
  grant: ExchangeGrant;
  target: string;
  scopes: readonly string[];
  details: readonly AuthorizationDetail[];
  dpop?: DpopBinding | undefined;
  now: number;
  /** The request's decision trail: the policy that decided, and the approval a pause opened. */
  trail?: Trail | undefined;
};

/** Paused: the request waits for approval; undefined: the policies allow it now. Refusals throw. */
export async function applyExchangePolicies(facts: ExchangeFacts): Promise<Paused | undefined> {
  const { deps, client, subject, now } = facts;
  const person = subject.represented.kind === 'person' ? subject.represented : undefined;
  // 1.
  const decision = await decideObligations(deps, {
    client,
    grant: facts.grant,
    sub: person?.sub,
    claims: person ? { ...person.claims, ...subject.claims } : {},
    resource: facts.target,
    scopes: facts.scopes,
    details: facts.details,
    chain: actorsOf(subject.act).length,
    now,
  });
  const obligation = obligationOf(decision);
  if (facts.trail && obligation) facts.trail.obligation = obligation;
  if (decision.decision === 'allow') return undefined;
  const ruleRef = `${decision.policy}/${decision.rule}`;
  // 2.
  if (decision.decision === 'deny') throw new OAuthError('access_denied', decision.reason, { reason: `policy_denied:${ruleRef}` });
  // 3.
  if (!decision.consent) {
    if (decision.stepUp && !stepUpSatisfied(decision.stepUp, subject.authentication, now)) throw new StepUpError(decision.stepUp, `policy_step_up:${ruleRef}`);
    return undefined;
  }
  // 4. The agent resumes by polling the CIBA grant: it must be allowed to use it.
  if (!(client.grant_types as readonly string[]).includes(cibaGrant)) {
    throw new OAuthError('access_denied', `this request needs approval, and this client may not poll for it (grant_types lacks ${cibaGrant})`, { reason: `policy_consent_no_ciba_grant:${ruleRef}` });
  }
  const approvers = await resolveApprovers(deps, decision.consent.approvers, { sub: person?.sub, claims: person ? { ...person.claims, ...subject.claims } : {} }, client, ruleRef);
  const { ciba } = deps.config.main;
  const expiresIn = Math.min(decision.consent.validitySeconds ?? ciba.default_expiry_seconds, ciba.max_expiry_seconds, subject.exp - now);
  const request: PausedExchange = {
    agent: client.client_id,
    actChain: actorsOf(subject.act),
    identityScopes: [],
    resource: facts.target,
    resourceScopes: [...facts.scopes],
    authorizationDetails: [...facts.details],
    ...(decision.stepUp ? { stepUp: stepUpRecord(decision.stepUp) } : {}),
    exchange: { version: 1, grant: facts.grant, subject, dpopJkt: facts.dpop?.jkt, policy: decision.policy, rule: decision.rule },
  };
  const opened = await openApproval(deps, { kind: 'exchange', clientId: client.client_id, sub: person?.sub, request, approvers, expiresIn, interval: ciba.interval_seconds });
  if (facts.trail) facts.trail.approval = { id: opened.id, approvers: approvers.kind };
  return { kind: 'paused', approvalId: opened.id, authReqId: opened.pollToken, interval: ciba.interval_seconds, expiresIn, reason: `paused_for_approval:${ruleRef}:${opened.id}` };
}
