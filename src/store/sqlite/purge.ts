// Expired rows are deleted a chunk at a time, each chunk one write of the group commit (./writer.ts),
// so a backlog never holds the event loop: one DELETE of 270,000 expired codes (what a burst of
// logins, or the benchmark's pools, leaves behind) took 1.5 s here with every request waiting behind
// it; a chunk takes about a millisecond and the requests' own writes commit between chunks.
import type Database from 'better-sqlite3';
import type { SqliteWrite } from './writer.ts';

export const purgeChunkRows = 256;

/**
 * Deletes the rows of `table` whose `column` is below the cutoff, chunk by chunk, and resolves to how
 * many went. Table and column are the stores' own constants.
 */
export function preparePurge(sqlite: Database.Database, write: SqliteWrite, table: string, column = 'expires_at'): (cutoff: number) => Promise<number> {
  const chunk = sqlite.prepare<[number]>(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ${purgeChunkRows})`);
  return async (cutoff) => {
    let deleted = 0;
    for (;;) {
      const changes = await write(() => chunk.run(cutoff).changes, { oneStatement: true });
      deleted += changes;
      if (changes < purgeChunkRows) return deleted;
    }
  };
}
