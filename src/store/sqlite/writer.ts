// Group commit for every write on the hot paths. A commit costs more than the statements of a
// typical request (~30 µs against a few µs each, measured), so the writes that arrive in one
// event-loop turn run in one IMMEDIATE transaction, each inside its own savepoint: a write that
// fails is rolled back and fails alone, its neighbours commit. A caller's promise settles only after
// the commit; if the commit itself fails (a lock held elsewhere past busy_timeout, a full disk),
// every write of that batch fails and none of it is stored.
// Each write is a synchronous function (better-sqlite3), so a conditional UPDATE or a read-then-write
// inside it is as atomic as before: the batch runs its writes one after another.
// A write that changes rows with one statement (a receipt's INSERT) may say so (`oneStatement`): it
// needs no savepoint, since SQLite undoes a failed statement by itself and keeps the transaction.
// If an error ever ends the whole transaction (SQLite does so for a full disk or an I/O error), the
// batch's remaining writes fail rather than run outside it.
import type Database from 'better-sqlite3';
import { createGroupCommit } from '../group-commit.ts';
import type { StoreObserver } from '../ports.ts';

export type SqliteWrite = {
  <T>(work: () => T, options?: { oneStatement?: boolean }): Promise<T>;
  /** The number of the batch transaction running now (it changes with every batch): what a write may cache within one. */
  readonly batch: () => number;
};

type Work = { work: () => unknown; oneStatement: boolean };
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createSqliteWriter(sqlite: Database.Database, observer?: StoreObserver): SqliteWrite {
  let batchNumber = 0;
  const savepoint = sqlite.transaction((work: () => unknown) => work());
  const batch = sqlite.transaction((works: Work[]): Outcome[] => {
    batchNumber++;
    return works.map(({ work, oneStatement }) => {
      try {
        if (!sqlite.inTransaction) throw new Error('the batch transaction was rolled back by an earlier error');
        return { ok: true, value: oneStatement ? work() : savepoint(work) };
      } catch (error) {
        return { ok: false, error };
      }
    });
  });
  const commit = createGroupCommit((works: Work[]) => batch.immediate(works), 512, observer && ((size, seconds) => observer.commit(size, seconds)));
  const write = async <T>(work: () => T, options?: { oneStatement?: boolean }): Promise<T> => {
    const outcome = await commit({ work, oneStatement: options?.oneStatement === true });
    if (!outcome.ok) throw outcome.error;
    return outcome.value as T;
  };
  return Object.assign(write, { batch: () => batchNumber });
}
