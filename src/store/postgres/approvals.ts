// Approval requests (CIBA, device code, paused exchanges) and their decisions on PostgreSQL, where a
// request may be started on one node, decided on another and collected on a third. Each state
// change is one transaction holding the request's row lock (SELECT … FOR UPDATE) or one conditional
// UPDATE: a poll and its slow_down, a decision and the settlement it causes, a claim by user code,
// the single issuance of an approved request. Must not decide a state change from an unlocked read.
import { approvalFromRow, approvalToRow, inboxPageOf } from '../rows.ts';
import { and, asc, count, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { ApprovalKind, ApprovalRecord, ApprovalStore, Decided, Poll } from '../ports.ts';
import type { PgDb } from './db.ts';
import { inboxCondition, olderThan } from './inbox.ts';
import { approvalDecisions, approvalRequests } from './schema.ts';
import { inTransaction, type PgTx } from './transaction.ts';

/** Advisory lock class of a person's pending requests (see transaction.ts for the others). */
const pendingLockClass = 7_400_201;

/** CIBA §11 and RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const slowDownStep = 5;

type RequestRow = typeof approvalRequests.$inferSelect;

/** The records of these rows with their decisions (one query for all), in the rows' order. */
async function load(db: PgDb | PgTx, rows: readonly RequestRow[]): Promise<ApprovalRecord[]> {
  if (rows.length === 0) return [];
  const decisions = await db
    .select()
    .from(approvalDecisions)
    .where(inArray(approvalDecisions.requestId, rows.map((r) => r.id)))
    .orderBy(asc(approvalDecisions.decidedAt), asc(approvalDecisions.approverSub));
  return rows.map((row) => approvalFromRow(row, decisions.filter((d) => d.requestId === row.id)));
}

async function loadOne(db: PgDb | PgTx, row: RequestRow | undefined): Promise<ApprovalRecord | undefined> {
  return row ? (await load(db, [row]))[0] : undefined;
}

export function createPgApprovalStore(db: PgDb): ApprovalStore {
  const byId = async (id: string) => loadOne(db, (await db.select().from(approvalRequests).where(eq(approvalRequests.id, id)))[0]);

  return {
    create: (record, limits) =>
      inTransaction(db, async (tx) => {
        // The person's requests are counted and the new one written under one lock per person, so
        // requests arriving at several nodes at once cannot pass a limit together.
        if (limits && record.sub !== undefined) {
          await tx.execute(sql`SELECT pg_advisory_xact_lock(${pendingLockClass}::int, hashtext(${record.sub}))`);
          const counted = await tx.execute<{ total: string | number; mine: string | number }>(
            sql`SELECT count(*) AS total, count(*) FILTER (WHERE client_id = ${record.clientId}) AS mine FROM approval_requests WHERE sub = ${record.sub} AND status = 'pending' AND expires_at > ${record.createdAt}`,
          );
          const row = counted.rows[0];
          if (row && (Number(row.mine) >= limits.perClientAndPerson || Number(row.total) >= limits.perPerson)) return false;
        }
        await tx.insert(approvalRequests).values(approvalToRow(record));
        return true;
      }),
    find: byId,
    async findByUserCode(userCodeHash, now) {
      const [row] = await db.select().from(approvalRequests).where(eq(approvalRequests.userCodeHash, userCodeHash));
      const record = await loadOne(db, row);
      return record && record.expiresAt > now ? record : undefined;
    },
    poll: (pollHash, clientId, now) =>
      inTransaction(db, async (tx): Promise<Poll> => {
        // Locked: two polls at once (two nodes) are one early poll after the other, never two `ok`.
        const [row] = await tx.select().from(approvalRequests).where(eq(approvalRequests.pollHash, pollHash)).for('update');
        if (!row || row.clientId !== clientId) return { status: 'unknown' };
        const early = row.lastPolledAt !== null && now - row.lastPolledAt < row.intervalSeconds;
        const intervalSeconds = early ? row.intervalSeconds + slowDownStep : row.intervalSeconds;
        await tx.update(approvalRequests).set({ lastPolledAt: now, intervalSeconds }).where(eq(approvalRequests.id, row.id));
        return { status: early ? 'slow_down' : 'ok', record: (await loadOne(tx, { ...row, lastPolledAt: now, intervalSeconds })) as ApprovalRecord };
      }),
    async claim(id, sub, now, request, approvers) {
      // One conditional UPDATE: of two nodes claiming one user code, exactly one sees its row updated.
      const claimed = await db
        .update(approvalRequests)
        .set({ sub, ...(request ? { request: JSON.stringify(request) } : {}), ...(approvers ? { approvers: JSON.stringify(approvers) } : {}) })
        .where(and(eq(approvalRequests.id, id), isNull(approvalRequests.sub), eq(approvalRequests.status, 'pending'), gt(approvalRequests.expiresAt, now)));
      return claimed.rowCount === 1;
    },
    decide: (id, decision, settle, now) =>
      inTransaction(db, async (tx): Promise<Decided> => {
        // The row lock orders decisions from every node: each one settles on all the decisions before it.
        const [row] = await tx.select().from(approvalRequests).where(eq(approvalRequests.id, id)).for('update');
        if (!row) return { status: 'unknown' };
        if (row.status !== 'pending' || row.expiresAt <= now) return { status: 'closed' };
        const inserted = await tx
          .insert(approvalDecisions)
          .values({ requestId: id, approverSub: decision.approverSub, approverEmail: decision.approverEmail ?? null, decision: decision.decision, decidedAt: decision.decidedAt })
          .onConflictDoNothing();
        if (inserted.rowCount === 0) return { status: 'duplicate' };
        const updated = (await loadOne(tx, row)) as ApprovalRecord;
        const outcome = settle(updated);
        if (outcome !== 'pending') await tx.update(approvalRequests).set({ status: outcome, decidedAt: now }).where(eq(approvalRequests.id, id));
        return { status: 'recorded', record: { ...updated, status: outcome === 'pending' ? 'pending' : outcome, ...(outcome === 'pending' ? {} : { decidedAt: now }) } };
      }),
    async markIssued(id, now) {
      const issued = await db.update(approvalRequests).set({ status: 'issued', decidedAt: now }).where(and(eq(approvalRequests.id, id), eq(approvalRequests.status, 'approved')));
      return issued.rowCount === 1;
    },
    async listOpen(now, limit = 200) {
      const rows = await db
        .select()
        .from(approvalRequests)
        .where(and(eq(approvalRequests.status, 'pending'), gt(approvalRequests.expiresAt, now)))
        .orderBy(asc(approvalRequests.createdAt), asc(approvalRequests.id))
        .limit(Math.min(limit, 1000));
      return load(db, rows);
    },
    async inboxPage(approver, query) {
      const condition = inboxCondition(approver, query);
      const [rows, [counted]] = await Promise.all([
        db
          .select()
          .from(approvalRequests)
          .where(query.after ? and(condition, olderThan(query.after)) : condition)
          .orderBy(desc(approvalRequests.createdAt), desc(approvalRequests.id))
          .limit(query.limit + 1),
        db.select({ n: count() }).from(approvalRequests).where(condition),
      ]);
      return inboxPageOf(await load(db, rows), Number(counted?.n ?? 0), query.limit);
    },
    async purgeExpired(now) {
      // Kept a day past expiry, so that a late poll still hears expired_token rather than invalid_grant.
      // One statement: the requests and their decisions go together.
      const old = await db.execute<{ id: string }>(sql`
        WITH old AS (DELETE FROM approval_requests WHERE expires_at < ${now - 86400} RETURNING id),
        gone AS (DELETE FROM approval_decisions WHERE request_id IN (SELECT id FROM old))
        SELECT id FROM old`);
      return old.rows.length;
    },
    async countByKind(now, expiredAfter) {
      // Metrics: the (status, expires_at) index serves both counts; expired requests stay a day (purgeExpired).
      const counted = await db.execute<{ kind: string; pending: string; expired: string }>(sql`
        SELECT kind, count(*) FILTER (WHERE expires_at > ${now}) AS pending,
          count(*) FILTER (WHERE expires_at <= ${now} AND expires_at > ${expiredAfter}) AS expired
        FROM approval_requests WHERE status = 'pending' AND expires_at > ${Math.min(now, expiredAfter)} GROUP BY kind`);
      return counted.rows.map((row) => ({ kind: row.kind as ApprovalKind, pending: Number(row.pending), expired: Number(row.expired) }));
    },
  };
}
