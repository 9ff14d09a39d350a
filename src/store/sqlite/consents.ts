// Consent remembered per person and client: what was granted, so the page is not shown again.
import { consentFromRow, consentToRow } from '../rows.ts';
import { and, eq } from 'drizzle-orm';
import type { ConsentStore } from '../ports.ts';
import type { SqliteDb } from './db.ts';
import { consentGrants } from './schema.ts';

export function createSqliteConsentStore(db: SqliteDb): ConsentStore {
  const key = (sub: string, clientId: string) => and(eq(consentGrants.sub, sub), eq(consentGrants.clientId, clientId));
  return {
    async find(sub, clientId) {
      const row = db.select().from(consentGrants).where(key(sub, clientId)).get();
      return row ? consentFromRow(row) : undefined;
    },
    async save(consent) {
      const values = consentToRow(consent);
      db.insert(consentGrants).values(values).onConflictDoUpdate({ target: [consentGrants.sub, consentGrants.clientId], set: values }).run();
    },
    async list(sub) {
      return db.select().from(consentGrants).where(eq(consentGrants.sub, sub)).all().map(consentFromRow);
    },
    async revoke(sub, clientId) {
      return db.delete(consentGrants).where(key(sub, clientId)).run().changes > 0;
    },
  };
}
