// The feed: receipts → SETs in the outbox of every stream that wants them. It reads the receipt
// chain after the position it last reached (the chain is gap-free and ordered, on both backends),
// so a receipt written by another node or by the CLI becomes a SET as surely as one written here,
// and a crash between a receipt and its SET loses nothing: the receipt is the source of truth.
// Moving the position and adding the events is one atomic step; of two nodes feeding at once, one
// wins and the other's work is dropped (exactly once into the outbox).
// 1 the position (none yet: start at the chain head, never replay history)  2 the next receipts
// 3 the streams (disabled ones get nothing)  4 drafts, one SET per stream and draft it wants
// 5 advance and add.
import { uuidv7 } from '../oauth/ids.ts';
import type { Deps } from '../deps.ts';
import type { SsfEventRecord, SsfStreamRecord } from '../store/ports.ts';
import { draftsFor, type SetDraft } from './events.ts';

export type FeedDeps = Pick<Deps, 'store' | 'issuer' | 'config' | 'now'>;

const batchSize = 200;

/** One step; how many receipts it consumed (0: nothing new, or another node got there first). */
export async function feedOnce(deps: FeedDeps, nowMs: number = Date.now()): Promise<number> {
  const { ssf, audit } = deps.store;
  // 1.
  const position = await ssf.feedPosition();
  if (position === undefined) {
    await ssf.advanceFeed(undefined, (await audit.head())?.seq ?? 0, []);
    return 0;
  }
  // 2.
  const records = await audit.list({ afterSeq: position, limit: batchSize });
  const last = records.at(-1);
  if (!last) return 0;
  // 3.
  const streams = (await ssf.listStreams()).filter((s) => s.status !== 'disabled');
  // 4. Receipts older than the retention are not worth sending (a feed that was off a long time).
  const oldest = nowMs - deps.config.main.ssf.retention_seconds * 1000;
  const context = {
    issuer: deps.issuer,
    isClient: (id: string) => deps.config.clients.has(id),
    delegationsUnder: (roots: { jtis?: readonly string[]; familyIds?: readonly string[] }) => deps.store.lineage.delegationsUnder(roots),
  };
  const events: SsfEventRecord[] = [];
  for (const record of records) {
    const wanting = streams.filter((s) => record.seq > s.fromSeq);
    if (wanting.length === 0 || record.atMs < oldest) continue;
    const drafts = await draftsFor(record, context);
    for (const stream of wanting) {
      for (const draft of drafts) if (stream.eventsDelivered.includes(draft.type)) events.push(outboxEvent(deps, stream, draft, record.id, nowMs));
    }
  }
  // 5.
  return (await ssf.advanceFeed(position, last.seq, events)) ? records.length : 0;
}

/** The SET's claims (RFC 8417 §2.2, SSF 1.0 §4.1): no `sub`, no `exp`; `txn` is the receipt behind it. */
export function outboxEvent(deps: Pick<FeedDeps, 'issuer' | 'now'>, stream: SsfStreamRecord, draft: { type: string; subId: SetDraft['subId']; event: Record<string, unknown> }, txn: string | undefined, nowMs: number): SsfEventRecord {
  const jti = uuidv7(nowMs);
  return {
    jti,
    streamId: stream.id,
    claims: { iss: deps.issuer, jti, iat: deps.now(), aud: stream.audience, ...(txn !== undefined ? { txn } : {}), sub_id: draft.subId, events: { [draft.type]: draft.event } },
    createdAtMs: nowMs,
    attempts: 0,
    nextAttemptAtMs: nowMs,
  };
}
