// People and their upstream accounts. A login either finds its account, links to one existing
// person by a verified e-mail (when allowed), or creates a person: in one transaction, so a failure
// leaves no half-created account.
import { and, eq, or, sql } from 'drizzle-orm';
import type { LinkedSubject, LoginLink, SubjectStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { subjects, upstreamAccounts } from './schema.ts';
import type { SqliteWrite } from './writer.ts';

export function createSqliteSubjectStore(db: SqliteDb, write: SqliteWrite): SubjectStore {
  // Read on every person grant and exchange: prepared once.
  const claimsBySub = db.$client.prepare<[string], { claims: string | null }>('SELECT claims FROM subjects WHERE sub = ?');
  const subBySub = db.$client.prepare<[string], { sub: string }>('SELECT sub FROM subjects WHERE sub = ?');
  const link = db.$client.transaction((input: LoginLink): LinkedSubject => {
    const account = db
      .select({ sub: upstreamAccounts.sub })
      .from(upstreamAccounts)
      .where(and(eq(upstreamAccounts.origIss, input.origIss), eq(upstreamAccounts.origSub, input.origSub)))
      .get();
    if (account) {
      db.update(upstreamAccounts)
        .set({ lastLoginAt: input.now, email: input.verifiedEmail ?? null })
        .where(and(eq(upstreamAccounts.origIss, input.origIss), eq(upstreamAccounts.origSub, input.origSub)))
        .run();
      db.update(subjects).set({ lastLoginAt: input.now }).where(eq(subjects.sub, account.sub)).run();
      return { sub: account.sub, linkedBy: 'account' };
    }
    let sub: string | undefined;
    let linkedBy: LinkedSubject['linkedBy'] = 'new_person';
    if (input.linkByEmail && input.verifiedEmail) {
      // Only people whose own e-mail was verified are candidates, and only an unambiguous one.
      const matches = db.select({ sub: subjects.sub }).from(subjects).where(eq(subjects.email, input.verifiedEmail)).limit(2).all();
      if (matches.length === 1) {
        sub = matches[0]?.sub;
        linkedBy = 'verified_email';
        db.update(subjects).set({ lastLoginAt: input.now }).where(eq(subjects.sub, sub as string)).run();
      }
    }
    if (!sub) {
      sub = input.newSub;
      db.insert(subjects).values({ sub, email: input.verifiedEmail ?? null, createdAt: input.now, lastLoginAt: input.now }).run();
    }
    db.insert(upstreamAccounts)
      .values({ origIss: input.origIss, origSub: input.origSub, upstreamId: input.upstreamId, sub, email: input.verifiedEmail ?? null, firstSeenAt: input.now, lastLoginAt: input.now })
      .run();
    return { sub, linkedBy };
  });

  return {
    linkLogin: (input) => write(() => link(input)),
    async saveClaims(sub, claims) {
      await write(() => db.update(subjects).set({ claims: JSON.stringify(claims) }).where(eq(subjects.sub, sub)).run());
    },
    async claimsOf(sub) {
      const row = claimsBySub.get(sub);
      return row?.claims ? (JSON.parse(row.claims) as Record<string, unknown>) : undefined;
    },
    async exists(sub) {
      return subBySub.get(sub) !== undefined;
    },
    async findByEmail(email) {
      // The canonical claims are JSON: only an e-mail they mark verified counts (json true is 1).
      const fromClaims = and(sql`lower(json_extract(${subjects.claims}, '$.email')) = ${email}`, sql`json_extract(${subjects.claims}, '$.email_verified') = 1`);
      const matches = db.select({ sub: subjects.sub }).from(subjects).where(or(sql`lower(${subjects.email}) = ${email}`, fromClaims)).limit(2).all();
      return matches.length === 1 ? matches[0]?.sub : undefined;
    },
    async accountsOf(sub) {
      return db
        .select()
        .from(upstreamAccounts)
        .where(eq(upstreamAccounts.sub, sub))
        .all()
        .map((row) => ({ ...row, email: row.email ?? undefined }));
    },
  };
}
