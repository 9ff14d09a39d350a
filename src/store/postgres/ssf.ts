// SSF streams and their outbox on PostgreSQL, shared by every node:
// - the feed moves with one conditional UPDATE (position = what the node read): of two nodes
//   feeding the same receipts, the second finds the position moved and adds nothing;
// - a push claim is one UPDATE over a FOR UPDATE SKIP LOCKED subquery, so two nodes never claim
//   the same SET; the claim is a lease (claimed_until_ms), so a node that dies mid-push only
//   delays its SETs until the lease ends, and another node sends them (at least once);
// - events are added only for streams that still exist, locked FOR SHARE until the insert commits.
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { SsfEventRecord, SsfStore } from '../ports.ts';
import { eventFromRow, eventToRow, ssfFeedId, streamFromRow, streamToRow } from '../ssf-rows.ts';
import type { PgDb } from './db.ts';
import { ssfEvents, ssfFeed, ssfStreams } from './schema.ts';
import { inTransaction, num, type PgTx } from './transaction.ts';

/** 7 columns a row: far below PostgreSQL's 65,535 bind parameters per statement. */
const batchRows = 1000;

async function insertEvents(tx: PgTx, events: readonly SsfEventRecord[]): Promise<void> {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((e) => e.streamId))];
  const live = new Set((await tx.select({ id: ssfStreams.id }).from(ssfStreams).where(inArray(ssfStreams.id, ids)).for('share')).map((r) => r.id));
  const rows = events.filter((e) => live.has(e.streamId)).map(eventToRow);
  for (let i = 0; i < rows.length; i += batchRows) await tx.insert(ssfEvents).values(rows.slice(i, i + batchRows)).onConflictDoNothing();
}

export function createPgSsfStore(db: PgDb): SsfStore {
  return {
    async createStream(record) {
      await db.insert(ssfStreams).values(streamToRow(record));
    },
    async findStream(id) {
      const [row] = await db.select().from(ssfStreams).where(eq(ssfStreams.id, id));
      return row ? streamFromRow(row) : undefined;
    },
    async listStreams(receiver) {
      const query = db.select().from(ssfStreams);
      const rows = await (receiver === undefined ? query : query.where(eq(ssfStreams.receiver, receiver))).orderBy(asc(ssfStreams.createdAt), asc(ssfStreams.id));
      return rows.map(streamFromRow);
    },
    saveStream: (record) =>
      inTransaction(db, async (tx) => {
        const { id, ...row } = streamToRow(record);
        const changed = await tx.update(ssfStreams).set(row).where(eq(ssfStreams.id, id)).returning({ id: ssfStreams.id });
        // Disabled: the transmitter holds nothing for it (SSF 1.0 §8.1.2).
        if (changed.length > 0 && record.status === 'disabled') await tx.delete(ssfEvents).where(eq(ssfEvents.streamId, id));
        return changed.length > 0;
      }),
    deleteStream: (id) =>
      inTransaction(db, async (tx) => {
        await tx.delete(ssfEvents).where(eq(ssfEvents.streamId, id));
        return (await tx.delete(ssfStreams).where(eq(ssfStreams.id, id)).returning({ id: ssfStreams.id })).length > 0;
      }),
    async feedPosition() {
      const [row] = await db.select({ position: ssfFeed.position }).from(ssfFeed).where(eq(ssfFeed.id, ssfFeedId));
      return row ? num(row.position) : undefined;
    },
    advanceFeed: (from, to, events) =>
      inTransaction(db, async (tx) => {
        const moved =
          from === undefined
            ? await tx.insert(ssfFeed).values({ id: ssfFeedId, position: to }).onConflictDoNothing().returning({ id: ssfFeed.id })
            : await tx
                .update(ssfFeed)
                .set({ position: to })
                .where(and(eq(ssfFeed.id, ssfFeedId), eq(ssfFeed.position, from)))
                .returning({ id: ssfFeed.id });
        if (moved.length === 0) return false;
        await insertEvents(tx, events);
        return true;
      }),
    enqueue: (events) => inTransaction(db, (tx) => insertEvents(tx, events)),
    async streamsDue(nowMs) {
      const result = await db.execute<{ id: string }>(sql`
        SELECT DISTINCT e.stream_id AS id FROM ssf_events e JOIN ssf_streams s ON s.id = e.stream_id
        WHERE s.status = 'enabled' AND s.method = 'push' AND e.next_attempt_at_ms <= ${nowMs} AND (e.claimed_until_ms IS NULL OR e.claimed_until_ms <= ${nowMs})
        LIMIT 1000`);
      return result.rows.map((r) => r.id);
    },
    async claimDue(streamId, nowMs, leaseMs, limit) {
      const result = await db.execute<{ jti: string; streamId: string; claims: string; createdAtMs: string; attempts: number; nextAttemptAtMs: string }>(sql`
        UPDATE ssf_events SET claimed_until_ms = ${nowMs + leaseMs}, attempts = attempts + 1
        WHERE jti IN (
          SELECT jti FROM ssf_events
          WHERE stream_id = ${streamId} AND next_attempt_at_ms <= ${nowMs} AND (claimed_until_ms IS NULL OR claimed_until_ms <= ${nowMs})
          ORDER BY created_at_ms, jti LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING jti, stream_id AS "streamId", claims, created_at_ms AS "createdAtMs", attempts, next_attempt_at_ms AS "nextAttemptAtMs"`);
      return result.rows
        .map((row) => eventFromRow({ ...row, createdAtMs: num(row.createdAtMs), attempts: num(row.attempts), nextAttemptAtMs: num(row.nextAttemptAtMs) }))
        .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.jti < b.jti ? -1 : 1));
    },
    async remove(streamId, jtis) {
      if (jtis.length === 0) return 0;
      return (await db.delete(ssfEvents).where(and(eq(ssfEvents.streamId, streamId), inArray(ssfEvents.jti, [...new Set(jtis)]))).returning({ jti: ssfEvents.jti })).length;
    },
    async retryLater(jtis, nextAttemptAtMs) {
      if (jtis.length === 0) return;
      await db.update(ssfEvents).set({ claimedUntilMs: null, nextAttemptAtMs }).where(inArray(ssfEvents.jti, [...jtis]));
    },
    async pending(streamId, limit) {
      const rows = await db.select().from(ssfEvents).where(eq(ssfEvents.streamId, streamId)).orderBy(asc(ssfEvents.createdAtMs), asc(ssfEvents.jti)).limit(limit);
      return rows.map(eventFromRow);
    },
    async purgeBefore(cutoffMs) {
      return (await db.delete(ssfEvents).where(lt(ssfEvents.createdAtMs, cutoffMs)).returning({ jti: ssfEvents.jti })).length;
    },
  };
}
