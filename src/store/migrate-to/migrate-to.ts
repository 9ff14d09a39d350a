// `consulate db migrate-to`: moves an SQLite install to PostgreSQL, in numbered steps. The target's
// schema is migrated (the same advisory-locked migrator every node runs) only once it is known to
// hold no data, and the rows go in one transaction that also verifies them: a refusal or a failure
// at any step leaves no row in the target (at most its empty schema, so a second run can proceed). Errors for the operator are MigrateToError
// (one line); a target out of reach is DatabaseUnreachableError; neither message holds a password.
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { migratePostgres, UnknownMigrationError } from '../postgres/migrate.ts';
import { DatabaseUnreachableError, redactDatabaseUrl } from '../postgres/open.ts';
import * as pgSchema from '../postgres/schema.ts';
import * as sqliteSchema from '../sqlite/schema.ts';
import { copyTables, type CopiedTable } from './copy.ts';
import { MigrateToError } from './errors.ts';
import { openSqliteSource } from './source.ts';
import { pairTables } from './tables.ts';
import { verifyReceiptChain } from './verify-receipts.ts';

export { MigrateToError } from './errors.ts';
export type { CopiedTable } from './copy.ts';

export type MigrateToReport = { tables: CopiedTable[]; receipts: number; target: string };

export async function migrateSqliteToPostgres(options: { sqliteFile: string; targetUrl: string; batchRows?: number }): Promise<MigrateToReport> {
  const target = redactDatabaseUrl(options.targetUrl);
  // 1. Every SQLite table has its PostgreSQL counterpart (before touching either database).
  const pairs = pairTables(sqliteSchema, pgSchema);
  // 2. The source, locked against any other process (a running server is refused).
  const source = openSqliteSource(options.sqliteFile);
  const client = new pg.Client({ connectionString: options.targetUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection fails the pending query instead
  try {
    // 3. The target: reachable, and holding no data anywhere (checked before its schema is touched).
    try {
      await client.connect();
    } catch (error) {
      throw new DatabaseUnreachableError(`cannot reach the database at ${target}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const filled = await tablesWithRows(client);
    if (filled.length > 0) throw new MigrateToError(`the target database ${target} already holds data (${filled.slice(0, 5).join(', ')}${filled.length > 5 ? ', …' : ''}): migrate-to copies into an empty database only; nothing was written`);
    // 4. Its schema, as a node would migrate it.
    try {
      await migratePostgres(options.targetUrl);
    } catch (error) {
      if (error instanceof UnknownMigrationError) throw new MigrateToError(`refusing the database at ${target}: ${error.message}`);
      throw error;
    }
    // 5. Copy and verify in one transaction: committed only when counts and the receipt chain hold.
    const db = drizzle(client, { schema: pgSchema });
    return await db.transaction(async (tx) => {
      const tables = await copyTables(tx, source, pairs, options.batchRows === undefined ? {} : { batchRows: options.batchRows });
      const receipts = await verifyReceiptChain(tx, source.receiptHead());
      return { tables, receipts, target };
    });
  } finally {
    source.close();
    await client.end().catch(() => {});
  }
}

/** Tables of the target (outside the system schemas and drizzle's bookkeeping) with at least one row. */
async function tablesWithRows(client: pg.Client): Promise<string[]> {
  const tables = await client.query<{ name: string }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'drizzle') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1`);
  const filled: string[] = [];
  for (const { name } of tables.rows) {
    const result = await client.query<{ filled: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${name}) AS filled`);
    if (result.rows[0]?.filled) filled.push(name.replace(/^public\./, ''));
  }
  return filled;
}
