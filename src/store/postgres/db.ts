// The drizzle handle every PostgreSQL repository takes (node-postgres driver): a leaf module, so
// repositories and open.ts (which builds them) do not import each other.
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as schema from './schema.ts';

export type PgDb = NodePgDatabase<typeof schema>;
