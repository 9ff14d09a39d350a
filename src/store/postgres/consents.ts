// Consent remembered per person and client, on PostgreSQL: saving is one upsert.
import { consentFromRow, consentToRow } from '../rows.ts';
import { and, eq } from 'drizzle-orm';
import type { ConsentStore } from '../ports.ts';
import type { PgDb } from './db.ts';
import { consentGrants } from './schema.ts';

export function createPgConsentStore(db: PgDb): ConsentStore {
  const key = (sub: string, clientId: string) => and(eq(consentGrants.sub, sub), eq(consentGrants.clientId, clientId));
  return {
    async find(sub, clientId) {
      const [row] = await db.select().from(consentGrants).where(key(sub, clientId));
      return row ? consentFromRow(row) : undefined;
    },
    async save(consent) {
      const values = consentToRow(consent);
      await db.insert(consentGrants).values(values).onConflictDoUpdate({ target: [consentGrants.sub, consentGrants.clientId], set: values });
    },
    async list(sub) {
      return (await db.select().from(consentGrants).where(eq(consentGrants.sub, sub))).map(consentFromRow);
    },
    async revoke(sub, clientId) {
      return ((await db.delete(consentGrants).where(key(sub, clientId))).rowCount ?? 0) > 0;
    },
  };
}
