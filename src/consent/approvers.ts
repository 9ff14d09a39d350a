// Approver rules (pure): who may decide a waiting request, and what the decisions so far amount
// to. subject: the person represented; manager: the person whose verified e-mail the subject's
// `manager` claim named when the request was made; dual: two different people of a group, never
// one of the excluded (the person represented, the requesting agent's owner). Any denial denies.
import type { ApprovalRecord, ApproverRule } from '../store/ports.ts';

/** A signed-in person, as their canonical claims describe them. */
export type Approver = { sub: string; email?: string | undefined; emailVerified: boolean; groups: readonly string[] };

export function approverFrom(sub: string, claims: Readonly<Record<string, unknown>>): Approver {
  return {
    sub,
    email: typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined,
    emailVerified: claims.email_verified === true,
    groups: Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

export function mayDecide(record: Pick<ApprovalRecord, 'sub' | 'approvers'>, approver: Approver): boolean {
  const rule: ApproverRule = record.approvers;
  switch (rule.kind) {
    case 'subject':
      return record.sub !== undefined && approver.sub === record.sub;
    case 'manager':
      return approver.emailVerified && approver.email !== undefined && approver.email === rule.email.toLowerCase();
    case 'dual':
      return approver.groups.includes(rule.group) && !rule.exclude.includes(approver.sub) && approver.sub !== record.sub;
  }
}

/** How many approvals settle a request. */
export const approvalsNeeded = (rule: ApproverRule): number => (rule.kind === 'dual' ? 2 : 1);

export function settle(record: Pick<ApprovalRecord, 'approvers' | 'decisions'>): 'approved' | 'denied' | 'pending' {
  if (record.decisions.some((d) => d.decision === 'deny')) return 'denied';
  const approvers = new Set(record.decisions.filter((d) => d.decision === 'approve').map((d) => d.approverSub));
  return approvers.size >= approvalsNeeded(record.approvers) ? 'approved' : 'pending';
}
