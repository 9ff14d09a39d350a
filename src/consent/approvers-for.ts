// Who must approve a request that waits for people (CIBA, device code): the policies decide
// (config/policies/). allow, or obligations without consent: the person represented (their approval
// is the request's point); consent: the rule's approvers (subject, manager, dual); deny: refused
// with access_denied, which the backchannel / device endpoint returns as it is.
// A step_up obligation goes with the request (approvalFor's `stepUp`, kept in its `request`): the
// approver's own authentication must meet it when they approve (consent/approvals.ts).
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { ApproverRule } from '../store/ports.ts';
import { resolveApprovers } from './resolve-approvers.ts';
import { decideObligations } from './decide-obligations.ts';
import type { StepUp } from '../obligations/types.ts';
import { obligationOf, type TrailObligation } from '../audit/trail.ts';

export type ApprovalAsk = {
  client: ClientConfig;
  grant: 'ciba' | 'device_code' | 'token_exchange' | 'jwt_bearer';
  sub: string;
  claims: Readonly<Record<string, unknown>>;
  resource?: string | undefined;
  scopes: readonly string[];
  details: readonly AuthorizationDetail[];
};

export async function approversFor(deps: Deps, ask: ApprovalAsk): Promise<ApproverRule> {
  return (await approvalFor(deps, ask)).approvers;
}

/**
 * Who approves, the step-up their authentication must meet (none: undefined), and the policy rule
 * that decided (kept with the request, for the receipt of what it issues: audit/trail.ts).
 */
export async function approvalFor(deps: Deps, ask: ApprovalAsk): Promise<{ approvers: ApproverRule; stepUp?: StepUp | undefined; obligation?: TrailObligation | undefined }> {
  const decision = await decideObligations(deps, { ...ask, now: deps.now() });
  const obligation = obligationOf(decision);
  switch (decision.decision) {
    case 'allow':
      return { approvers: { kind: 'subject' }, obligation };
    case 'deny':
      throw new OAuthError('access_denied', decision.reason, { reason: `policy_denied:${decision.policy}/${decision.rule}` });
    case 'obligations': {
      const stepUp = decision.stepUp;
      if (!decision.consent) return { approvers: { kind: 'subject' }, stepUp, obligation };
      return { approvers: await resolveApprovers(deps, decision.consent.approvers, { sub: ask.sub, claims: ask.claims }, ask.client, `${decision.policy}/${decision.rule}`), stepUp, obligation };
    }
  }
}
