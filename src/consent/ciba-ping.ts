// CIBA ping mode (OpenID CIBA Core §10.2): once a ping client's request is approved or denied,
// POST {"auth_req_id": …} as JSON to its backchannel_client_notification_endpoint with the
// client_notification_token as a Bearer credential; the client then fetches the result with the
// CIBA grant. Fire-and-forget with a bounded timeout, no redirects followed: a slow or failing
// client never delays or fails the decision. Must not log the token, the auth_req_id or the URL.
import type { Deps } from '../deps.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import { sendTraced } from '../tracing/outgoing.ts';

/** What a ping-mode CIBA request keeps to ping its client (ciba-request.ts writes it into the approval's request). */
export type CibaPing = { authReqId: string; clientNotificationToken: string };

const pingOf = (record: ApprovalRecord): CibaPing | undefined => (record.request as { ping?: CibaPing }).ping;

/** Sends the ping for a settled request of a ping client; resolves whether the client took it (2xx). Never throws. */
export async function sendCibaPing(deps: Pick<Deps, 'config' | 'log'>, record: ApprovalRecord): Promise<boolean> {
  // 1. Only settled CIBA requests that were made in ping mode, for a client still configured for it.
  const ping = pingOf(record);
  if (record.kind !== 'ciba' || !ping || (record.status !== 'approved' && record.status !== 'denied')) return false;
  const client = deps.config.clients.get(record.clientId);
  const endpoint = client?.backchannel_token_delivery_mode === 'ping' ? client.backchannel_client_notification_endpoint : undefined;
  if (!endpoint) {
    deps.log.warn({ approval: record.id, client_id: record.clientId }, 'CIBA ping skipped: the client is no longer configured for ping');
    return false;
  }
  // 2. One POST.
  try {
    const call = { method: 'POST', url: endpoint, headers: { 'content-type': 'application/json', authorization: `Bearer ${ping.clientNotificationToken}` }, attributes: { 'consulate.client_id': record.clientId } };
    const response = await sendTraced('webhook.ciba_ping', call, (headers) =>
      fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ auth_req_id: ping.authReqId }), redirect: 'error', signal: AbortSignal.timeout(deps.config.main.http.upstream_timeout_ms) }),
    );
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return true;
    deps.log.warn({ approval: record.id, client_id: record.clientId, status: response.status }, 'CIBA ping refused by the client');
    return false;
  } catch (error) {
    deps.log.warn({ approval: record.id, client_id: record.clientId, error: error instanceof Error ? error.name : 'unknown' }, 'CIBA ping failed');
    return false;
  }
}

/** Fire-and-forget: the decision does not wait for the client. */
export function pingCibaClient(deps: Pick<Deps, 'config' | 'log'>, record: ApprovalRecord): void {
  if (record.kind === 'ciba' && pingOf(record)) void sendCibaPing(deps, record);
}
