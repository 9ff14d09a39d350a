// SSF streams and their outbox on SQLite. One process writes (the group-committed writer), so each
// rule is one synchronous function: the feed moves only from the position it read (compare and
// set), a claim reads and marks due rows in one go, events for a stream deleted meanwhile are skipped.
import { asc, eq } from 'drizzle-orm';
import type { SsfEventRecord, SsfStore } from '../ports.ts';
import { eventFromRow, eventToRow, ssfFeedId, streamFromRow, streamToRow, type SsfEventRow } from '../ssf-rows.ts';
import type { SqliteDb } from './db.ts';
import { ssfEvents, ssfFeed, ssfStreams } from './schema.ts';
import type { SqliteWrite } from './writer.ts';
import { preparePurge } from './purge.ts';

export function createSqliteSsfStore(db: SqliteDb, write: SqliteWrite): SsfStore {
  const sqlite = db.$client;
  const insertEvent = sqlite.prepare(
    `INSERT INTO ssf_events (jti, stream_id, claims, created_at_ms, attempts, next_attempt_at_ms, claimed_until_ms)
     SELECT @jti, @streamId, @claims, @createdAtMs, @attempts, @nextAttemptAtMs, NULL WHERE EXISTS (SELECT 1 FROM ssf_streams WHERE id = @streamId)
     ON CONFLICT (jti) DO NOTHING`,
  );
  const insertAll = (events: readonly SsfEventRecord[]) => {
    for (const event of events) {
      const { claimedUntilMs: _unclaimed, ...row } = eventToRow(event);
      insertEvent.run(row);
    }
  };
  const position = () => db.select({ position: ssfFeed.position }).from(ssfFeed).where(eq(ssfFeed.id, ssfFeedId)).get()?.position;
  const dueRows = sqlite.prepare<[string, number, number, number], SsfEventRow>(
    `SELECT jti, stream_id AS streamId, claims, created_at_ms AS createdAtMs, attempts, next_attempt_at_ms AS nextAttemptAtMs FROM ssf_events
     WHERE stream_id = ? AND next_attempt_at_ms <= ? AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?) ORDER BY created_at_ms, jti LIMIT ?`,
  );
  const claim = sqlite.prepare('UPDATE ssf_events SET claimed_until_ms = ?, attempts = attempts + 1 WHERE jti = ?');

  return {
    async createStream(record) {
      await write(() => db.insert(ssfStreams).values(streamToRow(record)).run());
    },
    async findStream(id) {
      const row = db.select().from(ssfStreams).where(eq(ssfStreams.id, id)).get();
      return row ? streamFromRow(row) : undefined;
    },
    async listStreams(receiver) {
      const query = db.select().from(ssfStreams);
      const rows = (receiver === undefined ? query : query.where(eq(ssfStreams.receiver, receiver))).orderBy(asc(ssfStreams.createdAt), asc(ssfStreams.id)).all();
      return rows.map(streamFromRow);
    },
    saveStream: (record) =>
      write(() => {
        const { id, ...row } = streamToRow(record);
        const changed = db.update(ssfStreams).set(row).where(eq(ssfStreams.id, id)).run().changes;
        // Disabled: the transmitter holds nothing for it (SSF 1.0 §8.1.2).
        if (changed > 0 && record.status === 'disabled') db.delete(ssfEvents).where(eq(ssfEvents.streamId, id)).run();
        return changed > 0;
      }),
    deleteStream: (id) =>
      write(() => {
        db.delete(ssfEvents).where(eq(ssfEvents.streamId, id)).run();
        return db.delete(ssfStreams).where(eq(ssfStreams.id, id)).run().changes > 0;
      }),
    async feedPosition() {
      return position();
    },
    advanceFeed: (from, to, events) =>
      write(() => {
        if (position() !== from) return false;
        if (from === undefined) db.insert(ssfFeed).values({ id: ssfFeedId, position: to }).run();
        else db.update(ssfFeed).set({ position: to }).where(eq(ssfFeed.id, ssfFeedId)).run();
        insertAll(events);
        return true;
      }),
    async enqueue(events) {
      await write(() => insertAll(events));
    },
    async streamsDue(nowMs) {
      return sqlite
        .prepare<[number, number], { id: string }>(
          `SELECT DISTINCT e.stream_id AS id FROM ssf_events e JOIN ssf_streams s ON s.id = e.stream_id
           WHERE s.status = 'enabled' AND s.method = 'push' AND e.next_attempt_at_ms <= ? AND (e.claimed_until_ms IS NULL OR e.claimed_until_ms <= ?) LIMIT 1000`,
        )
        .all(nowMs, nowMs)
        .map((r) => r.id);
    },
    claimDue: (streamId, nowMs, leaseMs, limit) =>
      write(() => {
        const rows = dueRows.all(streamId, nowMs, nowMs, limit);
        for (const row of rows) claim.run(nowMs + leaseMs, row.jti);
        return rows.map((row) => eventFromRow({ ...row, attempts: row.attempts + 1 }));
      }),
    remove: (streamId, jtis) =>
      write(() => {
        let removed = 0;
        const remove = sqlite.prepare('DELETE FROM ssf_events WHERE stream_id = ? AND jti = ?');
        for (const jti of new Set(jtis)) removed += remove.run(streamId, jti).changes;
        return removed;
      }),
    retryLater: (jtis, nextAttemptAtMs) =>
      write(() => {
        const later = sqlite.prepare('UPDATE ssf_events SET claimed_until_ms = NULL, next_attempt_at_ms = ? WHERE jti = ?');
        for (const jti of jtis) later.run(nextAttemptAtMs, jti);
      }),
    async pending(streamId, limit) {
      return db.select().from(ssfEvents).where(eq(ssfEvents.streamId, streamId)).orderBy(asc(ssfEvents.createdAtMs), asc(ssfEvents.jti)).limit(limit).all().map(eventFromRow);
    },
    purgeBefore: preparePurge(db.$client, write, 'ssf_events', 'created_at_ms'),
  };
}
