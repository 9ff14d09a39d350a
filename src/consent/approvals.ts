// The approval service: opening a waiting request (CIBA, device code, paused exchange), deciding
// it (only people the approver rule names; one decision each; every decision in the audit log);
// what an approver sees is inbox.ts. The client polls with the auth_req_id / device code; only its
// hash is stored. A request that keeps a step-up (its `stepUp`) is approved only by someone whose own
// authentication meets it (a denial needs none).
import { OAuthError } from '../oauth/errors.ts';
import type { Deps } from '../deps.ts';
import { hashId, randomId, uuidv7 } from '../oauth/ids.ts';
import { stepUpOf, stepUpSatisfied, type Authentication } from '../obligations/step-up.ts';
import type { StepUp } from '../obligations/types.ts';
import type { ApprovalKind, ApprovalRecord, ApproverRule } from '../store/ports.ts';
import { mayDecide, settle, type Approver } from './approvers.ts';
import { notifyApproval, type NoticeDeps } from './notify.ts';
import { pingCibaClient } from './ciba-ping.ts';

export type OpenRequest = {
  kind: ApprovalKind;
  clientId: string;
  sub?: string | undefined;
  request: Record<string, unknown>;
  approvers: ApproverRule;
  expiresIn: number;
  interval: number;
  /** Device flow: the user code's hash, so the person can find the request. */
  userCodeHash?: string | undefined;
  /** A poll token the caller made (CIBA ping needs to name it later); else a fresh one. Only its hash is a key. */
  pollToken?: string | undefined;
};

export type Opened = { id: string; pollToken: string; record: ApprovalRecord };

/** What opening an approval reads: the clock, the pending limits, the store, receipts, metrics, and the notice. */
export type OpenApprovalDeps = NoticeDeps & Pick<Deps, 'now' | 'receipts' | 'metrics'>;

export async function openApproval(deps: OpenApprovalDeps, open: OpenRequest): Promise<Opened> {
  const now = deps.now();
  const pollToken = open.pollToken ?? randomId();
  const id = uuidv7();
  const record = {
    id,
    kind: open.kind,
    clientId: open.clientId,
    sub: open.sub,
    request: open.request,
    approvers: open.approvers,
    intervalSeconds: open.interval,
    createdAt: now,
    expiresAt: now + open.expiresIn,
  };
  const { max_pending_per_client_and_person: perClientAndPerson, max_pending_per_person: perPerson } = deps.config.main.approvals;
  const created = await deps.store.approvals.create({ ...record, pollHash: hashId(pollToken), userCodeHash: open.userCodeHash }, { perClientAndPerson, perPerson });
  // Too many requests already wait for this person: a flood must not bury a real one (nor tire them).
  if (!created) {
    throw new OAuthError('slow_down', 'too many requests are waiting for this person\'s approval; try again later', { status: 429, headers: { 'Retry-After': '60' }, reason: 'pending_approvals_limit' });
  }
  await deps.receipts.record({ event: 'approval.requested',
    clientId: open.clientId,
    subject: open.sub,
    details: { approval: id, kind: open.kind, approvers: open.approvers.kind, expires_at: record.expiresAt },
  });
  const opened: ApprovalRecord = { ...record, status: 'pending', decisions: [] };
  deps.metrics.approvalRequested(open.kind);
  notifyApproval(deps, 'approval.requested', opened);
  return { id, pollToken, record: opened };
}

export type Decision = { status: 'recorded'; record: ApprovalRecord } | { status: 'not_found' | 'closed' | 'duplicate' } | { status: 'step_up'; stepUp: StepUp; record: ApprovalRecord };

/**
 * A person approves or denies. Someone the rule does not name gets `not_found`, as for an unknown id.
 * `authentication`: the approver's own (session or Passport); an approval of an open request whose
 * step-up it does not meet is `step_up`, and nothing is recorded.
 */
export async function decideApproval(deps: Deps, id: string, approver: Approver, decision: 'approve' | 'deny', authentication?: Authentication): Promise<Decision> {
  const now = deps.now();
  const record = await deps.store.approvals.find(id);
  if (!record || !mayDecide(record, approver)) return { status: 'not_found' };
  const stepUp = stepUpOf(record.request);
  if (decision === 'approve' && stepUp && record.status === 'pending' && record.expiresAt > now && !stepUpSatisfied(stepUp, authentication, now)) {
    deps.log.info({ approval: id, reason: 'approver_step_up_required' }, 'approval needs a fresh sign-in');
    return { status: 'step_up', stepUp, record };
  }
  const result = await deps.store.approvals.decide(id, { approverSub: approver.sub, approverEmail: approver.email, decision, decidedAt: now }, settle, now);
  if (result.status === 'unknown') return { status: 'not_found' };
  if (result.status !== 'recorded') return { status: result.status };
  await deps.receipts.record({ event: 'approval.decided',
    clientId: record.clientId,
    subject: record.sub,
    details: { approval: id, kind: record.kind, decision, approver: approver.sub, outcome: result.record.status, approvals: result.record.decisions.filter((d) => d.decision === 'approve').length },
  });
  if (result.record.status === 'approved' || result.record.status === 'denied') deps.metrics.approvalDecided(record.kind, result.record.status);
  if (result.record.status !== 'pending') notifyApproval(deps, 'approval.decided', result.record);
  if (result.record.status !== 'pending') pingCibaClient(deps, result.record);
  return result;
}

/** One approval request by its id, whatever its state (pages and the API decide what to show of it). */
export const findApproval = (deps: Pick<Deps, 'store'>, id: string): Promise<ApprovalRecord | undefined> => deps.store.approvals.find(id);
