// The drizzle handle every SQLite repository takes: a leaf module, so repositories and open.ts
// (which builds them) do not import each other.
import type { drizzle } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema.ts';

export type SqliteDb = ReturnType<typeof drizzle<typeof schema>>;
