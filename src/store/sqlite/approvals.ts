// Approval requests (CIBA, device code, paused exchanges) and their decisions. Every state change
// is one IMMEDIATE transaction: a poll and its slow_down, a decision and the settlement it causes,
// the single issuance of an approved request.
import { approvalFromRow, approvalToRow, inboxPageOf } from '../rows.ts';
import { and, asc, count, desc, eq, gt, isNull, lt } from 'drizzle-orm';
import type { ApprovalDecision, ApprovalKind, ApprovalRecord, ApprovalStore, ApproverRule, Decided, PendingLimits, Poll } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { inboxCondition, olderThan } from './inbox.ts';
import { approvalDecisions, approvalRequests } from './schema.ts';

/** CIBA §11 and RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const slowDownStep = 5;

export function createSqliteApprovalStore(db: SqliteDb): ApprovalStore {
  const load = (row: typeof approvalRequests.$inferSelect | undefined): ApprovalRecord | undefined => {
    if (!row) return undefined;
    const decisions = db.select().from(approvalDecisions).where(eq(approvalDecisions.requestId, row.id)).all();
    return approvalFromRow(row, decisions);
  };
  const byId = (id: string) => load(db.select().from(approvalRequests).where(eq(approvalRequests.id, id)).get());

  const poll = db.$client.transaction((pollHash: string, clientId: string, now: number): Poll => {
    const row = db.select().from(approvalRequests).where(eq(approvalRequests.pollHash, pollHash)).get();
    if (!row || row.clientId !== clientId) return { status: 'unknown' };
    const early = row.lastPolledAt !== null && now - row.lastPolledAt < row.intervalSeconds;
    const intervalSeconds = early ? row.intervalSeconds + slowDownStep : row.intervalSeconds;
    db.update(approvalRequests).set({ lastPolledAt: now, intervalSeconds }).where(eq(approvalRequests.id, row.id)).run();
    return { status: early ? 'slow_down' : 'ok', record: load({ ...row, lastPolledAt: now, intervalSeconds }) as ApprovalRecord };
  });

  const claim = db.$client.transaction((id: string, sub: string, now: number, request?: Record<string, unknown>, approvers?: ApproverRule) => {
    return (
      db
        .update(approvalRequests)
        .set({ sub, ...(request ? { request: JSON.stringify(request) } : {}), ...(approvers ? { approvers: JSON.stringify(approvers) } : {}) })
        .where(and(eq(approvalRequests.id, id), isNull(approvalRequests.sub), eq(approvalRequests.status, 'pending'), gt(approvalRequests.expiresAt, now)))
        .run().changes === 1
    );
  });

  const decide = db.$client.transaction((id: string, decision: ApprovalDecision, settle: (record: ApprovalRecord) => 'approved' | 'denied' | 'pending', now: number): Decided => {
    const record = byId(id);
    if (!record) return { status: 'unknown' };
    if (record.status !== 'pending' || record.expiresAt <= now) return { status: 'closed' };
    const inserted = db
      .insert(approvalDecisions)
      .values({ requestId: id, approverSub: decision.approverSub, approverEmail: decision.approverEmail ?? null, decision: decision.decision, decidedAt: decision.decidedAt })
      .onConflictDoNothing()
      .run().changes;
    if (inserted === 0) return { status: 'duplicate' };
    const updated = { ...record, decisions: [...record.decisions, decision] };
    const outcome = settle(updated);
    if (outcome !== 'pending') db.update(approvalRequests).set({ status: outcome, decidedAt: now }).where(eq(approvalRequests.id, id)).run();
    return { status: 'recorded', record: { ...updated, status: outcome === 'pending' ? 'pending' : outcome, ...(outcome === 'pending' ? {} : { decidedAt: now }) } };
  });

  const pendingOf = db.$client.prepare<[string, string, number], { total: number; mine: number }>(
    "SELECT count(*) AS total, coalesce(sum(client_id = ?), 0) AS mine FROM approval_requests WHERE sub = ? AND status = 'pending' AND expires_at > ?",
  );
  // Metrics: the (status, expires_at) index serves both counts; expired requests stay a day (purgeExpired).
  const countsByKind = db.$client.prepare<[number, number, number, number], { kind: string; pending: number; expired: number }>(
    "SELECT kind, coalesce(sum(expires_at > ?), 0) AS pending, coalesce(sum(expires_at <= ? AND expires_at > ?), 0) AS expired FROM approval_requests WHERE status = 'pending' AND expires_at > ? GROUP BY kind",
  );
  const withinLimits = (clientId: string, sub: string, now: number, limits: PendingLimits) => {
    const { total, mine } = pendingOf.get(clientId, sub, now) ?? { total: 0, mine: 0 };
    return mine < limits.perClientAndPerson && total < limits.perPerson;
  };

  return {
    async create(record, limits) {
      // Better-sqlite3 is synchronous: the count and the insert cannot interleave with another request.
      if (limits && record.sub !== undefined && !withinLimits(record.clientId, record.sub, record.createdAt, limits)) return false;
      db.insert(approvalRequests)
        .values(approvalToRow(record))
        .run();
      return true;
    },
    async find(id) {
      return byId(id);
    },
    async findByUserCode(userCodeHash, now) {
      const record = load(db.select().from(approvalRequests).where(eq(approvalRequests.userCodeHash, userCodeHash)).get());
      return record && record.expiresAt > now ? record : undefined;
    },
    async poll(pollHash, clientId, now) {
      return poll.immediate(pollHash, clientId, now);
    },
    async claim(id, sub, now, request, approvers) {
      return claim.immediate(id, sub, now, request, approvers);
    },
    async decide(id, decision, settle, now) {
      return decide.immediate(id, decision, settle, now);
    },
    async markIssued(id, now) {
      return db.update(approvalRequests).set({ status: 'issued', decidedAt: now }).where(and(eq(approvalRequests.id, id), eq(approvalRequests.status, 'approved'))).run().changes === 1;
    },
    async listOpen(now, limit = 200) {
      return db
        .select()
        .from(approvalRequests)
        .where(and(eq(approvalRequests.status, 'pending'), gt(approvalRequests.expiresAt, now)))
        .orderBy(asc(approvalRequests.createdAt))
        .limit(Math.min(limit, 1000))
        .all()
        .map((row) => load(row) as ApprovalRecord);
    },
    async inboxPage(approver, query) {
      // Synchronous: the page and the total see the same rows.
      const condition = inboxCondition(approver, query);
      const rows = db
        .select()
        .from(approvalRequests)
        .where(query.after ? and(condition, olderThan(query.after)) : condition)
        .orderBy(desc(approvalRequests.createdAt), desc(approvalRequests.id))
        .limit(query.limit + 1)
        .all();
      const total = db.select({ n: count() }).from(approvalRequests).where(condition).get()?.n ?? 0;
      return inboxPageOf(rows.map((row) => load(row) as ApprovalRecord), total, query.limit);
    },
    async purgeExpired(now) {
      // Kept a day past expiry, so that a late poll still hears expired_token rather than invalid_grant.
      const old = db.select({ id: approvalRequests.id }).from(approvalRequests).where(lt(approvalRequests.expiresAt, now - 86400)).all();
      for (const { id } of old) db.delete(approvalDecisions).where(eq(approvalDecisions.requestId, id)).run();
      return db.delete(approvalRequests).where(lt(approvalRequests.expiresAt, now - 86400)).run().changes;
    },
    async countByKind(now, expiredAfter) {
      return countsByKind.all(now, now, expiredAfter, Math.min(now, expiredAfter)).map((row) => ({ kind: row.kind as ApprovalKind, pending: row.pending, expired: row.expired }));
    },
  };
}
