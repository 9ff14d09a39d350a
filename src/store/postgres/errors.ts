// The errors of opening a PostgreSQL store, and the URL as messages show it. Apart from open.ts
// and migrate.ts so that store/open.ts (and the CLI) can name them without loading pg and drizzle.
// It must not import pg or drizzle.

export class DatabaseUnreachableError extends Error {}

/** The database holds a migration this code does not know (a newer Consulate migrated it). */
export class UnknownMigrationError extends Error {}

/** The URL with its password removed, for messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return parsed.toString();
    parsed.password = '';
    return `${parsed.toString()} (password hidden)`;
  } catch {
    return '(an unparsable database URL)';
  }
}
