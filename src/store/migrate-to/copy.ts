// Copies paired tables from the SQLite source into PostgreSQL inside ONE target transaction that the
// caller owns (all or nothing): lock the target tables, make sure they are empty, insert every table
// in bounded batches (never a whole table in memory), move sequences past the copied values, and
// check that every table holds as many rows as its source. Any failure throws; the caller rolls back.
// Generic over the tables it is given; it knows nothing about what a table means.
import { sql } from 'drizzle-orm';
import type { PgTx } from '../postgres/transaction.ts';
import { MigrateToError } from './errors.ts';
import type { SqliteSource } from './source.ts';
import type { TablePair } from './tables.ts';

export type CopiedTable = { name: string; rows: number };

/** PostgreSQL takes at most 65,535 bind parameters per statement; stay well below. */
const maxParameters = 30_000;

const ident = (name: string) => sql.raw(`"${name.replace(/"/g, '""')}"`);

export async function copyTables(tx: PgTx, source: SqliteSource, pairs: readonly TablePair[], options: { batchRows?: number } = {}): Promise<CopiedTable[]> {
  if (pairs.length === 0) return [];
  // 1. No other session writes these tables until the copy commits (reads still go on).
  await tx.execute(sql`LOCK TABLE ${sql.join(pairs.map((p) => ident(p.name)), sql`, `)} IN EXCLUSIVE MODE`);
  // 2. Only into empty tables: a node that started against the target meanwhile made it "in use".
  const filled: string[] = [];
  for (const pair of pairs) {
    const result = await tx.execute<{ filled: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${ident(pair.name)}) AS filled`);
    if (result.rows[0]?.filled) filled.push(pair.name);
  }
  if (filled.length > 0) throw new MigrateToError(`the target database already holds data (${filled.join(', ')}): migrate-to copies into an empty database only`);

  // 3. Every table, in batches, converting values the two dialects store differently.
  const copied: CopiedTable[] = [];
  for (const pair of pairs) {
    const size = Math.max(1, Math.min(options.batchRows ?? 500, Math.floor(maxParameters / Math.max(1, pair.columns.length))));
    let rows = 0;
    for (const batch of source.batches(pair.name, size)) {
      const values = batch.map((stored) => {
        const row: Record<string, unknown> = {};
        for (const column of pair.columns) {
          const value = stored[column.name];
          row[column.key] = value === null || value === undefined ? null : column.convert(column.source.mapFromDriverValue(value));
        }
        return row;
      });
      await tx.insert(pair.target).values(values as never);
      rows += values.length;
    }
    copied.push({ name: pair.name, rows });
  }

  // 4. Sequences (serial / identity columns) continue after the copied values, not from 1.
  await resetSequences(tx, pairs.map((p) => p.name));

  // 5. What the target now holds, counted by the database, against the source.
  for (const { name } of copied) {
    const result = await tx.execute<{ n: string }>(sql`SELECT count(*) AS n FROM ${ident(name)}`);
    const target = Number(result.rows[0]?.n);
    const expected = source.count(name);
    if (target !== expected) throw new MigrateToError(`table ${name}: ${expected} row(s) in SQLite but ${target} after the copy; nothing was copied`);
  }
  return copied;
}

async function resetSequences(tx: PgTx, tables: string[]): Promise<void> {
  const owned = await tx.execute<{ seq: string; tbl: string; col: string }>(sql`
    SELECT s.oid::regclass::text AS seq, t.relname AS tbl, a.attname AS col
    FROM pg_class s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE s.relkind = 'S' AND pg_table_is_visible(t.oid) AND t.relname = ANY(${sql.param(tables)})`);
  for (const { seq, tbl, col } of owned.rows) {
    await tx.execute(sql`SELECT setval(${seq}::regclass, m) FROM (SELECT max(${ident(col)}) AS m FROM ${ident(tbl)}) AS copied WHERE m IS NOT NULL`);
  }
}
