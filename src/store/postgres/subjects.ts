// People and their upstream accounts on PostgreSQL. A login finds its account, links to one existing
// person by a verified e-mail (when allowed), or creates a person, in one transaction. Two nodes
// linking the same upstream account at once: the existing-account UPDATE row-locks it; a new account
// is inserted with ON CONFLICT (orig_iss, orig_sub) DO NOTHING, and the node that loses that race
// rolls back whole (its new person too) and runs again, then finding the winner's account. A
// transaction PostgreSQL aborts as a deadlock victim is run again too (./transaction.ts).
import { and, eq, or, sql } from 'drizzle-orm';
import type { LinkedSubject, LoginLink, SubjectStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { subjects, upstreamAccounts } from './schema.ts';
import { inTransaction } from './transaction.ts';

/** Thrown inside the transaction to roll it back when another node linked the account first. */
class LinkedElsewhere extends Error {}

export function createPgSubjectStore(db: PgDb): SubjectStore {
  const linkOnce = (input: LoginLink): Promise<LinkedSubject> =>
    inTransaction(db, async (tx) => {
      const accountKey = and(eq(upstreamAccounts.origIss, input.origIss), eq(upstreamAccounts.origSub, input.origSub));
      const [account] = await tx
        .update(upstreamAccounts)
        .set({ lastLoginAt: input.now, email: input.verifiedEmail ?? null })
        .where(accountKey)
        .returning({ sub: upstreamAccounts.sub });
      if (account) {
        await tx.update(subjects).set({ lastLoginAt: input.now }).where(eq(subjects.sub, account.sub));
        return { sub: account.sub, linkedBy: 'account' };
      }
      let sub: string | undefined;
      let linkedBy: LinkedSubject['linkedBy'] = 'new_person';
      if (input.linkByEmail && input.verifiedEmail) {
        // Only people whose own e-mail was verified are candidates, and only an unambiguous one.
        const matches = await tx.select({ sub: subjects.sub }).from(subjects).where(eq(subjects.email, input.verifiedEmail)).limit(2);
        if (matches.length === 1 && matches[0]) {
          sub = matches[0].sub;
          linkedBy = 'verified_email';
          await tx.update(subjects).set({ lastLoginAt: input.now }).where(eq(subjects.sub, sub));
        }
      }
      if (!sub) {
        sub = input.newSub;
        await tx.insert(subjects).values({ sub, email: input.verifiedEmail ?? null, createdAt: input.now, lastLoginAt: input.now });
      }
      const inserted = await tx
        .insert(upstreamAccounts)
        .values({ origIss: input.origIss, origSub: input.origSub, upstreamId: input.upstreamId, sub, email: input.verifiedEmail ?? null, firstSeenAt: input.now, lastLoginAt: input.now })
        .onConflictDoNothing({ target: [upstreamAccounts.origIss, upstreamAccounts.origSub] })
        .returning({ sub: upstreamAccounts.sub });
      if (inserted.length === 0) throw new LinkedElsewhere();
      return { sub, linkedBy };
    });

  return {
    async linkLogin(input) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await linkOnce(input);
        } catch (error) {
          if (!(error instanceof LinkedElsewhere) || attempt >= 3) throw error;
        }
      }
    },
    async saveClaims(sub, claims) {
      await db.update(subjects).set({ claims: JSON.stringify(claims) }).where(eq(subjects.sub, sub));
    },
    async claimsOf(sub) {
      const [row] = await db.select({ claims: subjects.claims }).from(subjects).where(eq(subjects.sub, sub));
      return row?.claims ? (JSON.parse(row.claims) as Record<string, unknown>) : undefined;
    },
    async exists(sub) {
      return (await db.select({ sub: subjects.sub }).from(subjects).where(eq(subjects.sub, sub))).length > 0;
    },
    async findByEmail(email) {
      // The canonical claims are JSON text: only an e-mail they mark verified (JSON true) counts.
      const fromClaims = and(sql`lower((${subjects.claims})::jsonb ->> 'email') = ${email}`, sql`(${subjects.claims})::jsonb -> 'email_verified' = 'true'::jsonb`);
      const matches = await db.select({ sub: subjects.sub }).from(subjects).where(or(sql`lower(${subjects.email}) = ${email}`, fromClaims)).limit(2);
      return matches.length === 1 ? matches[0]?.sub : undefined;
    },
    async accountsOf(sub) {
      const rows = await db.select().from(upstreamAccounts).where(eq(upstreamAccounts.sub, sub));
      return rows.map((row) => ({ ...row, email: row.email ?? undefined }));
    },
  };
}
