// Delegations and Passport lineage. Revocation cascades: a revoked Passport takes everything minted
// from it (recursive walk over passport_links), a revoked delegation every Passport carrying its
// did. Budget consumption is one IMMEDIATE transaction, so two concurrent uses cannot overspend;
// a usage id is recorded (used_ids, scope usage:<did>) in that same transaction, so it counts once.
import { delegationFromRow, delegationToRow } from '../rows.ts';
import { and, desc, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { isSpent } from '../../delegation/budget.ts';
import type { Consumption, DelegationStore, LineageStore, NewDelegation, PassportLink, Usage } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { delegations, passportLinks, usedIds } from './schema.ts';
import type { SqliteWrite } from './writer.ts';
import { preparePurge } from './purge.ts';

/** Revokes every descendant of `jtis` (not `jtis` themselves); runs inside the caller's transaction. */
export function revokeDescendantsIn(db: SqliteDb, jtis: readonly string[], now: number): number {
  if (jtis.length === 0) return 0;
  return db.$client
    .prepare(
      `WITH RECURSIVE tree(jti) AS (
         SELECT l.jti FROM passport_links l WHERE l.parent_jti IN (SELECT value FROM json_each(?))
         UNION SELECT l.jti FROM passport_links l JOIN tree t ON l.parent_jti = t.jti)
       INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
       SELECT l.jti, l.client_id, l.expires_at, ? FROM passport_links l JOIN tree t ON l.jti = t.jti WHERE true
       ON CONFLICT (jti) DO NOTHING`,
    )
    .run(JSON.stringify(jtis), now).changes;
}

/** A new delegation's INSERT, prepared once; the delegation store and the lineage store (an exchange's first link) share it. */
function prepareInsertDelegation(db: SqliteDb): (record: NewDelegation) => void {
  const insert = db.$client.prepare(
    `INSERT INTO delegations (did, sub, client_id, resource, origin, root_jti, created_at, expires_at, budget_uses, budget_amount, budget_currency)
     VALUES (:did, :sub, :clientId, :resource, :origin, :rootJti, :createdAt, :expiresAt, :budgetUses, :budgetAmount, :budgetCurrency)`,
  );
  return (record) => void insert.run(delegationToRow(record));
}

export function createSqliteLineageStore(db: SqliteDb, write: SqliteWrite): LineageStore {
  // Prepared once: token exchange writes a link per Passport (hot path).
  const insertLink = db.$client.prepare('INSERT INTO passport_links (jti, parent_jti, did, client_id, sub, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
  // Revoked while this one was being minted: it must not outlive its parent or its delegation.
  const revokeIfOrphaned = db.$client.prepare(
    `INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at)
     SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?)
       OR (? IS NOT NULL AND NOT EXISTS (SELECT 1 FROM delegations WHERE did = ? AND revoked_at IS NULL))
     ON CONFLICT (jti) DO NOTHING`,
  );
  const insertDelegation = prepareInsertDelegation(db);
  // Every statement in the writer's savepoint for this write: they stand or fall together.
  const record = (link: PassportLink, now: number, started?: NewDelegation) => {
    if (started) insertDelegation(started);
    const did = link.did ?? null;
    insertLink.run(link.jti, link.parentJti ?? null, did, link.clientId, link.sub, link.expiresAt);
    revokeIfOrphaned.run(link.jti, link.clientId, link.expiresAt, now, link.parentJti ?? null, did, did);
  };
  // The tree under the roots (the Passports themselves, or a family's), and in it each delegation's first link.
  const startedUnder = db.$client.prepare<[string, string], { did: string }>(
    `WITH RECURSIVE roots(jti) AS (
       SELECT value FROM json_each(?) UNION SELECT jti FROM family_passports WHERE family_id IN (SELECT value FROM json_each(?))),
     tree(jti) AS (
       SELECT l.jti FROM passport_links l WHERE l.jti IN (SELECT jti FROM roots) OR l.parent_jti IN (SELECT jti FROM roots)
       UNION SELECT l.jti FROM passport_links l JOIN tree t ON l.parent_jti = t.jti)
     SELECT DISTINCT l.did AS did FROM passport_links l JOIN tree t ON l.jti = t.jti
     WHERE l.did IS NOT NULL AND NOT EXISTS (SELECT 1 FROM passport_links p WHERE p.jti = l.parent_jti AND p.did = l.did)`,
  );
  return {
    async record(link, now, started) {
      await write(() => record(link, now, started));
    },
    revokeDescendants: (jtis, now) => write(() => revokeDescendantsIn(db, jtis, now), { oneStatement: true }),
    async delegationsUnder(roots) {
      const dids = startedUnder.all(JSON.stringify(roots.jtis ?? []), JSON.stringify(roots.familyIds ?? [])).map((r) => r.did);
      if (dids.length === 0) return [];
      return db.select().from(delegations).where(inArray(delegations.did, dids)).orderBy(delegations.did).all().map(delegationFromRow);
    },
  };
}

export function createSqliteDelegationStore(db: SqliteDb, write: SqliteWrite): DelegationStore {
  const purgeLinks = preparePurge(db.$client, write, 'passport_links');
  const purgeDelegations = preparePurge(db.$client, write, 'delegations');
  const byDid = db.select().from(delegations).where(eq(delegations.did, sql.placeholder('did'))).prepare();
  const find = (did: string) => {
    const row = byDid.get({ did });
    return row ? delegationFromRow(row) : undefined;
  };
  const insert = prepareInsertDelegation(db);

  const revoke = db.$client.transaction((did: string, by: string, now: number) => {
    const changed = db
      .update(delegations)
      .set({ revokedAt: now, revokedBy: by })
      .where(and(eq(delegations.did, did), isNull(delegations.revokedAt)))
      .run().changes;
    if (changed === 0) return false;
    const jtis = db.select({ jti: passportLinks.jti }).from(passportLinks).where(eq(passportLinks.did, did)).all().map((r) => r.jti);
    db.$client
      .prepare('INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) SELECT jti, client_id, expires_at, ? FROM passport_links WHERE did = ? ON CONFLICT (jti) DO NOTHING')
      .run(now, did);
    revokeDescendantsIn(db, jtis, now);
    return true;
  });

  const consume = db.$client.transaction((did: string, usage: Usage, now: number): Consumption => {
    const record = find(did);
    if (!record || record.expiresAt <= now) return { status: 'unknown' };
    if (record.revokedAt !== undefined) return { status: 'revoked' };
    // A usage id already counted under this delegation adds nothing (a retried report).
    const usageScope = `usage:${did}`;
    if (usage.usageId !== undefined && db.select({ id: usedIds.id }).from(usedIds).where(and(eq(usedIds.scope, usageScope), eq(usedIds.id, usage.usageId))).get()) {
      return { status: 'duplicate', record };
    }
    const budget = record.budget ?? {};
    if (usage.amountMicros > 0 && budget.currency !== undefined && usage.currency !== budget.currency) return { status: 'currency_mismatch' };
    const uses = record.used.uses + usage.uses;
    const amount = record.used.amountMicros + usage.amountMicros;
    // A spent delegation takes nothing more, not even usage of the part of the budget that is left.
    if (isSpent(record) || (budget.uses !== undefined && uses > budget.uses) || (budget.amountMicros !== undefined && amount > budget.amountMicros)) return { status: 'exceeded', record };
    if (usage.usageId !== undefined) db.insert(usedIds).values({ scope: usageScope, id: usage.usageId, expiresAt: record.expiresAt }).run();
    db.update(delegations).set({ usedUses: uses, usedAmount: amount }).where(eq(delegations.did, did)).run();
    return { status: 'ok', record: { ...record, used: { uses, amountMicros: amount } } };
  });

  return {
    async create(record) {
      await write(() => insert(record), { oneStatement: true });
    },
    async find(did) {
      return find(did);
    },
    revoke: (did, by, now) => write(() => revoke(did, by, now)),
    async list(filter, now) {
      const where: SQL[] = [gt(delegations.expiresAt, now)];
      if (filter.sub !== undefined) where.push(eq(delegations.sub, filter.sub));
      if (filter.clientIds !== undefined) where.push(inArray(delegations.clientId, [...filter.clientIds]));
      return db
        .select()
        .from(delegations)
        .where(and(...where))
        .orderBy(desc(delegations.createdAt), desc(delegations.did))
        .limit(Math.min(filter.limit ?? 100, 1000))
        .all()
        .map(delegationFromRow);
    },
    consume: (did, usage, now) => write(() => consume(did, usage, now)),
    async purgeExpired(now) {
      return (await purgeLinks(now)) + (await purgeDelegations(now));
    },
  };
}
