// Delegations and Passport lineage on PostgreSQL, several nodes on one database. Each rule is one
// transaction that locks what it depends on, never a read-then-write in JS without a lock:
// - budget: the delegation row is locked (SELECT … FOR UPDATE) while the usage is checked and added,
//   and the usage id goes into used_ids in the same transaction, so concurrent reports from any
//   node never overspend and a retried report counts once;
// - revocation cascades with a recursive CTE (INSERT INTO revoked_tokens … ON CONFLICT DO NOTHING);
// - a link and a revocation never miss each other: `record` holds shared advisory locks on its
//   delegation and its parent while it writes the link and checks them; a revoker takes the
//   exclusive lock of the delegation before it marks it, and of every Passport of the tree before
//   its last walk, so a link is either seen by the walk or sees the revocation (see revokeDescendantsIn).
import { delegationFromRow, delegationToRow } from '../rows.ts';
import { and, desc, eq, gt, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { isSpent } from '../../delegation/budget.ts';
import type { Consumption, DelegationStore, LineageStore, Usage } from '../ports.ts';
import type { PgDb } from './db.ts';
import { delegations, passportLinks, usedIds } from './schema.ts';
import { exclusiveLock, inTransaction, lockClass, num, sharedLock, type PgTx } from './transaction.ts';

/**
 * Revokes every descendant of `jtis` (not `jtis` themselves) inside the caller's transaction; the
 * caller has revoked `jtis` (committed or in this transaction). One recursive CTE walks the tree
 * and revokes it; then every Passport of the tree is locked (exclusive advisory locks, sorted) and
 * the walk runs again with a snapshot taken after the locks, until it finds nothing unlocked. A
 * link written meanwhile under a node of the tree was either committed before the lock (the last
 * walk sees it) or waits for this transaction and then sees its parent revoked.
 */
export async function revokeDescendantsIn(tx: PgTx, jtis: readonly string[], now: number): Promise<number> {
  if (jtis.length === 0) return 0;
  const roots = sql.param([...jtis]);
  const locked = new Set<string>();
  let revoked = 0;
  for (;;) {
    const walk = await tx.execute<{ revoked: number; tree: string[] | null }>(sql`
      WITH RECURSIVE tree(jti) AS (
        SELECT l.jti FROM passport_links l WHERE l.parent_jti = ANY(${roots}::text[])
        UNION SELECT l.jti FROM passport_links l JOIN tree t ON l.parent_jti = t.jti),
      revoked AS (
        INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
        SELECT l.jti, l.client_id, l.expires_at, ${now} FROM passport_links l JOIN tree t ON l.jti = t.jti
        ON CONFLICT (jti) DO NOTHING
        RETURNING jti)
      SELECT (SELECT count(*) FROM revoked)::int AS revoked, (SELECT array_agg(jti) FROM tree) AS tree`);
    const row = walk.rows[0];
    revoked += num(row?.revoked ?? 0);
    const fresh = [...jtis, ...(row?.tree ?? [])].filter((jti) => !locked.has(jti)).sort();
    if (fresh.length === 0) return revoked;
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${lockClass.passport}::int, hashtext(j)) FROM (SELECT j FROM unnest(${sql.param(fresh)}::text[]) AS j ORDER BY j) s`);
    for (const jti of fresh) locked.add(jti);
  }
}

export function createPgLineageStore(db: PgDb): LineageStore {
  return {
    async record(link, now, started) {
      const did = link.did ?? null;
      const parentJti = link.parentJti ?? null;
      await inTransaction(db, async (tx) => {
        if (started) await tx.insert(delegations).values(delegationToRow(started));
        // The delegation's lock first, then the parent's: the order a delegation revocation takes them in.
        if (did !== null) await tx.execute(sharedLock('delegation', did));
        if (parentJti !== null) await tx.execute(sharedLock('passport', parentJti));
        // Revoked while this one was being minted: it must not outlive its parent or its delegation.
        await tx.execute(sql`
          WITH link AS (
            INSERT INTO passport_links (jti, parent_jti, did, client_id, sub, expires_at)
            VALUES (${link.jti}, ${parentJti}, ${did}, ${link.clientId}, ${link.sub}, ${link.expiresAt}) RETURNING jti)
          INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
          SELECT jti, ${link.clientId}, ${link.expiresAt}, ${now} FROM link
          WHERE EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ${parentJti}::text)
             OR (${did}::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM delegations WHERE did = ${did}::text AND revoked_at IS NULL))
          ON CONFLICT (jti) DO NOTHING`);
      });
    },
    revokeDescendants: (jtis, now) => inTransaction(db, (tx) => revokeDescendantsIn(tx, jtis, now)),
    async delegationsUnder(roots) {
      // The tree under the roots (the Passports themselves, or a family's), and in it each delegation's first link.
      const found = await db.execute<{ did: string }>(sql`
        WITH RECURSIVE roots(jti) AS (
          SELECT unnest(${sql.param([...(roots.jtis ?? [])])}::text[])
          UNION SELECT jti FROM family_passports WHERE family_id = ANY(${sql.param([...(roots.familyIds ?? [])])}::text[])),
        tree(jti) AS (
          SELECT l.jti FROM passport_links l WHERE l.jti IN (SELECT jti FROM roots) OR l.parent_jti IN (SELECT jti FROM roots)
          UNION SELECT l.jti FROM passport_links l JOIN tree t ON l.parent_jti = t.jti)
        SELECT DISTINCT l.did AS did FROM passport_links l JOIN tree t ON l.jti = t.jti
        WHERE l.did IS NOT NULL AND NOT EXISTS (SELECT 1 FROM passport_links p WHERE p.jti = l.parent_jti AND p.did = l.did)`);
      const dids = found.rows.map((r) => r.did);
      if (dids.length === 0) return [];
      return (await db.select().from(delegations).where(inArray(delegations.did, dids)).orderBy(delegations.did)).map(delegationFromRow);
    },
  };
}

export function createPgDelegationStore(db: PgDb): DelegationStore {
  const find = async (did: string) => {
    const [row] = await db.select().from(delegations).where(eq(delegations.did, did));
    return row ? delegationFromRow(row) : undefined;
  };

  const consume = async (tx: PgTx, did: string, usage: Usage, now: number): Promise<Consumption> => {
    // The row lock: a concurrent report (any node) waits here and then reads what this one wrote.
    const [row] = await tx.select().from(delegations).where(eq(delegations.did, did)).for('update');
    const record = row ? delegationFromRow(row) : undefined;
    if (!record || record.expiresAt <= now) return { status: 'unknown' };
    if (record.revokedAt !== undefined) return { status: 'revoked' };
    // A usage id already counted under this delegation adds nothing (a retried report).
    const usageScope = `usage:${did}`;
    if (usage.usageId !== undefined) {
      const [seen] = await tx.select({ id: usedIds.id }).from(usedIds).where(and(eq(usedIds.scope, usageScope), eq(usedIds.id, usage.usageId)));
      if (seen) return { status: 'duplicate', record };
    }
    const budget = record.budget ?? {};
    if (usage.amountMicros > 0 && budget.currency !== undefined && usage.currency !== budget.currency) return { status: 'currency_mismatch' };
    const uses = record.used.uses + usage.uses;
    const amount = record.used.amountMicros + usage.amountMicros;
    // A spent delegation takes nothing more, not even usage of the part of the budget that is left.
    if (isSpent(record) || (budget.uses !== undefined && uses > budget.uses) || (budget.amountMicros !== undefined && amount > budget.amountMicros)) return { status: 'exceeded', record };
    if (usage.usageId !== undefined) await tx.insert(usedIds).values({ scope: usageScope, id: usage.usageId, expiresAt: record.expiresAt });
    await tx.update(delegations).set({ usedUses: uses, usedAmount: amount }).where(eq(delegations.did, did));
    return { status: 'ok', record: { ...record, used: { uses, amountMicros: amount } } };
  };

  return {
    async create(record) {
      await db.insert(delegations).values(delegationToRow(record));
    },
    find,
    revoke: (did, by, now) =>
      inTransaction(db, async (tx) => {
        // Links being recorded under this delegation finish first (and are revoked below), or wait and see it revoked.
        await tx.execute(exclusiveLock('delegation', did));
        const changed = await tx
          .update(delegations)
          .set({ revokedAt: now, revokedBy: by })
          .where(and(eq(delegations.did, did), isNull(delegations.revokedAt)))
          .returning({ did: delegations.did });
        if (changed.length === 0) return false;
        const carrying = await tx.execute<{ jti: string }>(sql`
          WITH carrying AS (SELECT jti, client_id, expires_at FROM passport_links WHERE did = ${did}),
          revoked AS (
            INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
            SELECT jti, client_id, expires_at, ${now} FROM carrying
            ON CONFLICT (jti) DO NOTHING)
          SELECT jti FROM carrying`);
        await revokeDescendantsIn(tx, carrying.rows.map((r) => r.jti), now);
        return true;
      }),
    async list(filter, now) {
      const where: SQL[] = [gt(delegations.expiresAt, now)];
      if (filter.sub !== undefined) where.push(eq(delegations.sub, filter.sub));
      if (filter.clientIds !== undefined) where.push(inArray(delegations.clientId, [...filter.clientIds]));
      const rows = await db
        .select()
        .from(delegations)
        .where(and(...where))
        .orderBy(desc(delegations.createdAt), desc(delegations.did))
        .limit(Math.min(filter.limit ?? 100, 1000));
      return rows.map(delegationFromRow);
    },
    consume: (did, usage, now) => inTransaction(db, (tx) => consume(tx, did, usage, now)),
    async purgeExpired(now) {
      const [links, expired] = await Promise.all([db.delete(passportLinks).where(lt(passportLinks.expiresAt, now)), db.delete(delegations).where(lt(delegations.expiresAt, now))]);
      return (links.rowCount ?? 0) + (expired.rowCount ?? 0);
    },
  };
}
