// Pairs the tables of the SQLite schema with their PostgreSQL counterparts, generically: every drizzle
// table object of ../sqlite/schema.ts is matched by SQL name with one of ../postgres/schema.ts, and
// every column by SQL name, so a table added to both schemas later is copied without a change here.
// Each column pair gets its value conversion (where the two dialects store one JS value differently)
// decided here, once: a pair with no safe conversion is an error before anything is copied.
// Pure: reads schema objects only, no I/O.
import { getTableColumns, getTableName, is, type Column } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { MigrateToError } from './errors.ts';

/** One column: its SQL name, the PostgreSQL table's property key for it, and the conversion of a value. */
export type ColumnPair = { name: string; key: string; source: Column; target: Column; convert: (value: unknown) => unknown };

export type TablePair = { name: string; source: SQLiteTable; target: PgTable; columns: ColumnPair[] };

const tablesOf = <T>(schema: Record<string, unknown>, kind: new (...args: never[]) => T): T[] =>
  Object.values(schema).filter((value): value is T => is(value, kind as never));

/**
 * The tables to copy, each after the tables its foreign keys point to (so inserts never break a
 * reference). Throws MigrateToError naming every SQLite table or column with no counterpart.
 */
export function pairTables(sqliteSchema: Record<string, unknown>, pgSchema: Record<string, unknown>): TablePair[] {
  const targets = new Map(tablesOf(pgSchema, PgTable).map((table) => [getTableName(table), table]));
  const problems: string[] = [];
  const pairs: TablePair[] = [];
  for (const source of tablesOf(sqliteSchema, SQLiteTable)) {
    const name = getTableName(source);
    const target = targets.get(name);
    if (!target) {
      problems.push(`table ${name} has no PostgreSQL counterpart`);
      continue;
    }
    const columns = pairColumns(name, source, target, problems);
    pairs.push({ name, source, target, columns });
  }
  if (problems.length > 0) throw new MigrateToError(`the SQLite and PostgreSQL schemas differ: ${problems.join('; ')}`);
  return inReferenceOrder(pairs);
}

function pairColumns(table: string, source: SQLiteTable, target: PgTable, problems: string[]): ColumnPair[] {
  const byName = new Map(Object.entries(getTableColumns(target)).map(([key, column]) => [column.name, { key, column }]));
  const pairs: ColumnPair[] = [];
  for (const column of Object.values(getTableColumns(source))) {
    const counterpart = byName.get(column.name);
    byName.delete(column.name);
    if (!counterpart) {
      problems.push(`column ${table}.${column.name} has no PostgreSQL counterpart`);
      continue;
    }
    const convert = conversion(column, counterpart.column);
    if (!convert) problems.push(`column ${table}.${column.name}: no conversion from ${column.dataType} to ${counterpart.column.dataType}`);
    else pairs.push({ name: column.name, key: counterpart.key, source: column, target: counterpart.column, convert });
  }
  // A PostgreSQL column SQLite lacks is fine only when it may be left to its default (or NULL).
  for (const { column } of byName.values()) {
    if (column.notNull && !column.hasDefault) problems.push(`column ${table}.${column.name} (NOT NULL, no default) has no SQLite counterpart`);
  }
  return pairs;
}

const same = (value: unknown) => value;

/**
 * From the value as the SQLite column decodes it (drizzle's mapFromDriverValue: 0/1 → boolean in
 * boolean mode, text → object in json mode, seconds → Date in timestamp mode) to the value the
 * PostgreSQL column encodes. Integers arrive as JS numbers or, beyond 2^53, as BigInt.
 */
function conversion(source: Column, target: Column): ((value: unknown) => unknown) | undefined {
  const from = source.dataType;
  const to = target.dataType;
  if (from === to) return from === 'number' ? toNumber : same;
  if (from === 'number' && to === 'bigint') return (v) => (typeof v === 'number' ? BigInt(v) : v);
  if (from === 'number' && to === 'boolean') return (v) => Number(v) !== 0;
  if (from === 'boolean' && to === 'number') return (v) => (v ? 1 : 0);
  if (from === 'string' && to === 'json') return (v) => JSON.parse(String(v)) as unknown;
  if (from === 'json' && to === 'string') return (v) => JSON.stringify(v);
  if (from === 'date' && to === 'number') return (v) => Math.floor((v as Date).getTime() / 1000);
  return undefined;
}

/** An integer too big for a JS number goes to PostgreSQL as decimal text (exact for bigint columns). */
const toNumber = (value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** Tables sorted so each comes after the tables it references (self-references aside). */
function inReferenceOrder(pairs: TablePair[]): TablePair[] {
  const byName = new Map(pairs.map((pair) => [pair.name, pair]));
  const referenced = (pair: TablePair) => {
    const names = new Set<string>();
    for (const fk of sqliteTableConfig(pair.source).foreignKeys) names.add(getTableName(fk.reference().foreignTable));
    for (const fk of pgTableConfig(pair.target).foreignKeys) names.add(getTableName(fk.reference().foreignTable));
    names.delete(pair.name);
    return [...names].filter((name) => byName.has(name));
  };
  const ordered: TablePair[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (pair: TablePair) => {
    if (state.get(pair.name) === 'done') return;
    if (state.get(pair.name) === 'visiting') throw new MigrateToError(`foreign keys form a cycle through table ${pair.name}`);
    state.set(pair.name, 'visiting');
    for (const name of referenced(pair)) visit(byName.get(name) as TablePair);
    state.set(pair.name, 'done');
    ordered.push(pair);
  };
  for (const pair of pairs) visit(pair);
  return ordered;
}
