// Approval notifications: a signed JSON POST to the configured webhook (approvals.webhook) when a
// request starts waiting for people (approval.requested) and when it is settled (approval.decided).
// Fire-and-forget with a bounded timeout: a slow or failing receiver never fails or delays the
// request that caused it; failures are logged without the URL, the secret or the payload.
// Signature: header `Consulate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>">`.
import { createHmac } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { ApprovalRecord, ApproverRule } from '../store/ports.ts';
import { describeRequest, personLabel } from './describe.ts';
import { sendTraced } from '../tracing/outgoing.ts';

export type ApprovalEvent = 'approval.requested' | 'approval.decided';

/** What sending a notice reads: the webhook's config, the person's name, the inbox link, the log. */
export type NoticeDeps = Pick<Deps, 'config' | 'issuer' | 'store' | 'log'>;

export const signatureHeader = 'Consulate-Signature';

/** The header value for `body` sent at `t` (epoch seconds). */
export function signPayload(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Who may decide, as the receiver needs it to reach them. */
function approversOf(rule: ApproverRule, sub: string | undefined): Record<string, unknown> {
  switch (rule.kind) {
    case 'subject':
      return { kind: 'subject', sub };
    case 'manager':
      return { kind: 'manager', email: rule.email };
    case 'dual':
      return { kind: 'dual', group: rule.group, exclude: rule.exclude };
  }
}

const personName = async (deps: Pick<Deps, 'store'>, sub: string | undefined): Promise<string | undefined> =>
  sub === undefined ? undefined : personLabel((await deps.store.subjects.claimsOf(sub)) ?? {});

/** The payload of `event` for `record` (settled records carry their outcome). */
export async function approvalPayload(deps: Pick<Deps, 'config' | 'issuer' | 'store'>, event: ApprovalEvent, record: ApprovalRecord): Promise<Record<string, unknown>> {
  const words = describeRequest(deps.config, { kind: record.kind, clientId: record.clientId, request: record.request, person: await personName(deps, record.sub) });
  return {
    event,
    approval: record.id,
    kind: record.kind,
    client: record.clientId,
    approvers: approversOf(record.approvers, record.sub),
    expires_at: record.expiresAt,
    summary: words.summary,
    inbox: `${deps.issuer}/approvals`,
    ...(event === 'approval.decided' ? { outcome: record.status, decided_at: record.decidedAt } : {}),
  };
}

/** Sends one notification; resolves whether the receiver took it (2xx). Never throws. */
export async function sendApprovalNotice(deps: NoticeDeps, event: ApprovalEvent, record: ApprovalRecord): Promise<boolean> {
  const webhook = deps.config.main.approvals.webhook;
  if (!webhook) return false;
  try {
    // 1 the payload  2 its signature  3 one POST, bounded, no redirects followed.
    const body = JSON.stringify(await approvalPayload(deps, event, record));
    const signature = signPayload(webhook.secret, body, Math.floor(Date.now() / 1000));
    // A `webhook.approval` span when tracing is on; the receiver gets its traceparent.
    const call = { method: 'POST', url: webhook.url, headers: { 'content-type': 'application/json', [signatureHeader]: signature }, attributes: { 'consulate.event': event } };
    const response = await sendTraced('webhook.approval', call, (headers) => fetch(webhook.url, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(webhook.timeout_ms) }));
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return true;
    deps.log.warn({ approval: record.id, event, status: response.status }, 'approval notification refused by the receiver');
    return false;
  } catch (error) {
    deps.log.warn({ approval: record.id, event, error: error instanceof Error ? error.name : 'unknown' }, 'approval notification failed');
    return false;
  }
}

/** Fire-and-forget: the caller does not wait for the receiver. */
export function notifyApproval(deps: NoticeDeps, event: ApprovalEvent, record: ApprovalRecord): void {
  if (deps.config.main.approvals.webhook) void sendApprovalNotice(deps, event, record);
}
