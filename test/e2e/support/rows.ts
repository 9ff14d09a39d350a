// Reads a running test Consulate's SQLite database directly (read-only), to check that a refused
// login left nothing behind: no person, no linked upstream account, no session.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { TestConsulate } from './consulate.ts';

export type Footprint = { subjects: number; accounts: number; sessions: number; logins: number };

export async function footprint(server: TestConsulate): Promise<Footprint> {
  const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const logins = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').length;
    return { subjects: count('subjects'), accounts: count('upstream_accounts'), sessions: count('sessions'), logins };
  } finally {
    db.close();
  }
}

/** The linked upstream account for (orig_iss, orig_sub), if any. */
export function accountFor(server: TestConsulate, origSub: string): { orig_iss: string; upstream_id: string } | undefined {
  const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT orig_iss, upstream_id FROM upstream_accounts WHERE orig_sub = ?').get(origSub) as { orig_iss: string; upstream_id: string } | undefined;
  } finally {
    db.close();
  }
}
