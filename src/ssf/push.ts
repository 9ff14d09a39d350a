// Push delivery (RFC 8935): every push stream with due SETs is served on its own, in parallel, so a
// slow or failing receiver never holds up another. A stream's SETs go one after another, oldest
// first, each POSTed as application/secevent+jwt; 202 delivers it, a 400 with an RFC 8935 error
// object rejects it for good (recorded as a receipt); anything else (no answer, a timeout, 5xx, a
// redirect) is retried with exponential backoff, and after push.max_attempts dropped (a receipt).
// Claims are leases in the shared outbox, so two nodes never push one SET at once, and a node that
// dies mid-push only delays its SETs. Never logs a SET, a receiver's Authorization header or body.
import type { Deps } from '../deps.ts';
import type { SsfEventRecord, SsfStreamRecord } from '../store/ports.ts';
import { sendTraced } from '../tracing/outgoing.ts';
import { signSet } from './set.ts';

export type PushDeps = Pick<Deps, 'store' | 'config' | 'keyring' | 'now' | 'log' | 'receipts'>;

type Outcome = { kind: 'delivered' } | { kind: 'rejected'; err: string } | { kind: 'failed'; why: string };

/** SETs one stream sends per claim; the rest wait for the next round. */
const batchSize = 20;
/** RFC 8935 §2.3 error codes are short tokens; anything else is not echoed into a receipt. */
const errShape = /^[a-z_]{1,64}$/;

/** One round over every stream with due SETs; resolves when each has had its turn. */
export async function pushDue(deps: PushDeps, nowMs: number = Date.now()): Promise<void> {
  const ids = await deps.store.ssf.streamsDue(nowMs);
  await Promise.all(ids.map((id) => pushStream(deps, id, nowMs).catch((err: unknown) => deps.log.warn({ err, stream_id: id }, 'ssf: push round failed'))));
}

async function pushStream(deps: PushDeps, streamId: string, nowMs: number): Promise<void> {
  const { ssf } = deps.store;
  const settings = deps.config.main.ssf.push;
  const stream = await ssf.findStream(streamId);
  if (!stream || stream.status !== 'enabled' || stream.delivery.method !== 'push') return;
  // Long enough for the whole batch to time out one by one; a node that dies frees it after this.
  const events = await ssf.claimDue(streamId, nowMs, batchSize * (settings.timeout_ms + 1000), batchSize);
  for (const [index, event] of events.entries()) {
    const outcome = await pushOne(deps, stream, event);
    if (outcome.kind === 'delivered') {
      await ssf.remove(streamId, [event.jti]);
      continue;
    }
    if (outcome.kind === 'rejected') {
      await ssf.remove(streamId, [event.jti]);
      await recordFailure(deps, stream, [event], 'rejected', outcome.err);
      continue;
    }
    // Failed: the receiver is not taking SETs now. This one and the rest of the batch wait (in
    // order) with a backoff; those out of attempts are dropped.
    const rest = events.slice(index);
    const spent = rest.filter((e) => e.attempts >= settings.max_attempts);
    const waiting = rest.filter((e) => e.attempts < settings.max_attempts);
    const backoff = Math.min(settings.max_backoff_ms, settings.initial_backoff_ms * 2 ** Math.max(0, event.attempts - 1));
    await ssf.retryLater(waiting.map((e) => e.jti), Date.now() + backoff);
    if (spent.length) {
      await ssf.remove(streamId, spent.map((e) => e.jti));
      await recordFailure(deps, stream, spent, 'gave_up');
    }
    deps.log.warn({ stream_id: streamId, receiver: stream.receiver, reason: outcome.why, attempts: event.attempts, retry_in_ms: backoff, waiting: waiting.length }, 'ssf: push failed');
    return;
  }
}

async function pushOne(deps: PushDeps, stream: SsfStreamRecord, event: SsfEventRecord): Promise<Outcome> {
  if (stream.delivery.method !== 'push') return { kind: 'failed', why: 'not_push' };
  const { endpointUrl, authorizationHeader } = stream.delivery;
  const body = await signSet(deps, event.claims);
  const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(authorizationHeader !== undefined ? { authorization: authorizationHeader } : {}) };
  let response: Response;
  try {
    response = await sendTraced('ssf.push', { method: 'POST', url: endpointUrl, headers, attributes: { 'consulate.ssf.stream': stream.id } }, (sent) =>
      fetch(endpointUrl, { method: 'POST', headers: sent, body, redirect: 'manual', signal: AbortSignal.timeout(deps.config.main.ssf.push.timeout_ms) }),
    );
  } catch (error) {
    return { kind: 'failed', why: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable' };
  }
  // RFC 8935 §2.2: 202 Accepted. §2.3: 400 with { err, description } is the receiver's verdict on this SET.
  if (response.status === 202) {
    await response.body?.cancel().catch(() => undefined);
    return { kind: 'delivered' };
  }
  const answer = await response.json().catch(() => undefined) as { err?: unknown } | undefined;
  if (response.status === 400 && typeof answer?.err === 'string') return { kind: 'rejected', err: errShape.test(answer.err) ? answer.err : 'other' };
  return { kind: 'failed', why: `http_${response.status}` };
}

async function recordFailure(deps: PushDeps, stream: SsfStreamRecord, events: readonly SsfEventRecord[], outcome: 'rejected' | 'gave_up', err?: string): Promise<void> {
  deps.log.warn({ stream_id: stream.id, receiver: stream.receiver, outcome, err, sets: events.length }, 'ssf: SETs not delivered');
  await deps.receipts.record({
    event: 'ssf.delivery_failed',
    clientId: stream.receiver,
    details: { stream_id: stream.id, method: 'push', outcome, ...(err !== undefined ? { err } : {}), jtis: events.map((e) => e.jti), txns: events.map((e) => e.claims.txn ?? null) },
  });
}
