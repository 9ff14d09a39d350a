// The store port of SSF event streams and their outboxes (src/ssf/): re-exported by ports.ts.

/** SSF delivery: push (RFC 8935) to the receiver's URL, or poll (RFC 8936) at ours. */
export type SsfDelivery = { method: 'push'; endpointUrl: string; authorizationHeader?: string | undefined } | { method: 'poll' };

export type SsfStreamStatus = 'enabled' | 'paused' | 'disabled';

/** An SSF event stream (SSF 1.0 §8.1.1) of one receiver (a client). Times are epoch seconds. */
export type SsfStreamRecord = {
  id: string;
  /** The client that created it: only it sees or changes it. */
  receiver: string;
  /** The SETs' `aud`. */
  audience: string;
  delivery: SsfDelivery;
  /** Absent: the receiver asked for every supported event. */
  eventsRequested?: string[] | undefined;
  eventsDelivered: string[];
  description?: string | undefined;
  status: SsfStreamStatus;
  statusReason?: string | undefined;
  /** Receipts up to this chain position came before the stream: never sent on it. */
  fromSeq: number;
  createdAt: number;
  updatedAt: number;
};

/** One SET waiting in a stream's outbox: its claims (signed when it is sent), retry state. Times in epoch ms. */
export type SsfEventRecord = { jti: string; streamId: string; claims: Record<string, unknown>; createdAtMs: number; attempts: number; nextAttemptAtMs: number };

export type SsfStore = {
  createStream(record: SsfStreamRecord): Promise<void>;
  findStream(id: string): Promise<SsfStreamRecord | undefined>;
  /** The streams of one receiver, or all, oldest first. */
  listStreams(receiver?: string): Promise<SsfStreamRecord[]>;
  /** Replaces the stream's record; false when it is gone. A disabled stream's waiting events are dropped with it. */
  saveStream(record: SsfStreamRecord): Promise<boolean>;
  /** Deletes the stream and its waiting events; false when it was not there. */
  deleteStream(id: string): Promise<boolean>;
  /** The receipt chain position the feed has turned into events; undefined before the first feed. */
  feedPosition(): Promise<number | undefined>;
  /**
   * Moves the feed from `from` to `to` and adds the events those receipts made, atomically: false
   * (nothing added) when another node moved it first.
   */
  advanceFeed(from: number | undefined, to: number, events: readonly SsfEventRecord[]): Promise<boolean>;
  /** Adds events made outside the feed (verification, stream updated). */
  enqueue(events: readonly SsfEventRecord[]): Promise<void>;
  /** Push streams (enabled) with an event due at `nowMs` and not claimed by a node. */
  streamsDue(nowMs: number): Promise<string[]>;
  /**
   * Claims up to `limit` due events of a stream, oldest first, for `leaseMs`, counting an attempt:
   * no other node gets them until the lease ends (SKIP LOCKED / one writer), so none is pushed twice at once.
   */
  claimDue(streamId: string, nowMs: number, leaseMs: number, limit: number): Promise<SsfEventRecord[]>;
  /** Removes events of the stream (delivered, acknowledged, rejected or given up); how many were there. */
  remove(streamId: string, jtis: readonly string[]): Promise<number>;
  /** A failed push: the claim is released and the next attempt waits until `nextAttemptAtMs`. */
  retryLater(jtis: readonly string[], nextAttemptAtMs: number): Promise<void>;
  /** Events waiting on a stream, oldest first (poll delivery). */
  pending(streamId: string, limit: number): Promise<SsfEventRecord[]>;
  /** Drops events created before `cutoffMs`; how many. */
  purgeBefore(cutoffMs: number): Promise<number>;
};
