// `consulate db …`: the database as a whole. `db migrate-to <postgres-url>` copies the install's
// embedded SQLite database (found as `serve` finds it) into an empty PostgreSQL database and prints
// the rows copied per table. The copying and checking is store/migrate-to/; this file only parses,
// resolves the source, and turns refusals into one line and an exit status.
import type { Command } from 'commander';
import { databaseUrlFor, DatabaseUnreachableError, isPostgresUrl, redactDatabaseUrl } from '../store/open.ts';
import { migrateSqliteToPostgres, MigrateToError } from '../store/migrate-to/migrate-to.ts';
import { fail, loadConfigOrExit, storeOptions, table, type StoreFlags } from './context.ts';

const migrateHelp = `
Stop every Consulate server that uses the SQLite database first: the copy is a snapshot, and anything
a server wrote after it would be lost. The command refuses to run while another process has the
SQLite file open. Then:

  1. the target must be reachable and hold no data (an empty database, or one whose tables are
     empty); it gets the PostgreSQL schema the same way a starting node migrates it;
  2. every table is copied in one PostgreSQL transaction, in batches: all of it or none of it;
  3. before that transaction commits, every table's row count must equal SQLite's and the receipt
     hash chain must verify on PostgreSQL, ending at the same hash.

Afterwards start the nodes with database_url (or CONSULATE_DATABASE_URL) set to the target.
The SQLite file is left as it was (with its schema migrations applied): keep it until you are done.

Example:
  consulate db migrate-to postgres://consulate:secret@db.internal:5432/consulate --config ./config`;

/** `consulate db …` under `db`, the group command index.ts made (name and description there). */
export function registerDbCommands(db: Command): void {
  storeOptions(
    db
      .command('migrate-to')
      .argument('<postgres-url>', 'the PostgreSQL database to copy into: postgres://user:password@host:port/database')
      .description('copy the embedded SQLite database (every table, keys and receipts included) into an empty PostgreSQL database'),
  )
    .addHelpText('after', migrateHelp)
    .action(async (targetUrl: string, flags: StoreFlags) => {
      if (!isPostgresUrl(targetUrl) || redactDatabaseUrl(targetUrl) === '(an unparsable database URL)') {
        fail('migrate-to needs a PostgreSQL URL: postgres://user:password@host:port/database (or postgresql://…)', 2);
      }
      const config = loadConfigOrExit(flags);
      const source = databaseUrlFor(config.main.data_dir, config.main.database_url);
      if (!source.startsWith('sqlite:')) {
        fail(`the config selects ${redactDatabaseUrl(source)} (database_url or CONSULATE_DATABASE_URL), not SQLite: name the SQLite source with --database-url sqlite:<file>`);
      }
      let report;
      try {
        report = await migrateSqliteToPostgres({ sqliteFile: source.slice('sqlite:'.length), targetUrl });
      } catch (error) {
        if (error instanceof MigrateToError || error instanceof DatabaseUnreachableError) fail(error.message);
        throw error;
      }
      const total = report.tables.reduce((sum, t) => sum + t.rows, 0);
      process.stdout.write(`${table([['TABLE', 'ROWS'], ...report.tables.map((t) => [t.name, String(t.rows)])])}\n`);
      process.stdout.write(
        `copied ${total} row(s) of ${report.tables.length} table(s) into ${report.target}\n` +
          `verified: every table's row count equals SQLite's; the receipt chain (${report.receipts} receipt(s)) verifies and ends at the same hash\n` +
          'next: start the nodes with database_url (or CONSULATE_DATABASE_URL) set to this database\n',
      );
    });
}
