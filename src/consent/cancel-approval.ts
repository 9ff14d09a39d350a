// An operator cancels an open approval request (the admin API and page): it ends denied, as if an
// approver had said no, so the client's next poll gets access_denied (CIBA §11, RFC 8628 §3.5) and
// a CIBA ping client is told. The decision names the operator, not a person; the receipt is
// `approval.cancelled` with `by`. A request already decided or expired is left as it is.
import type { Deps } from '../deps.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import { notifyApproval } from './notify.ts';
import { pingCibaClient } from './ciba-ping.ts';

export type Cancelled = { status: 'cancelled'; record: ApprovalRecord } | { status: 'unknown' | 'closed' };

/** `by`: who cancels, as the receipt names them (operator:<client_id>, person:<sub>). */
export async function cancelApproval(deps: Deps, id: string, by: string): Promise<Cancelled> {
  const now = deps.now();
  const result = await deps.store.approvals.decide(id, { approverSub: by, decision: 'deny', decidedAt: now }, () => 'denied', now);
  if (result.status === 'unknown') return { status: 'unknown' };
  if (result.status !== 'recorded') return { status: 'closed' };
  const { record } = result;
  await deps.receipts.record({ event: 'approval.cancelled', clientId: record.clientId, subject: record.sub, details: { approval: id, kind: record.kind, by } });
  deps.metrics.approvalDecided(record.kind, 'denied');
  notifyApproval(deps, 'approval.decided', record);
  pingCibaClient(deps, record);
  return { status: 'cancelled', record };
}
