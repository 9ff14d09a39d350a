// drizzle-kit for the PostgreSQL backend: `npm run db:generate` writes drizzle/postgres/ from its schema.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/postgres/schema.ts',
  out: './drizzle/postgres',
});
