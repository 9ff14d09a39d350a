// `db migrate-to` below the CLI: every table SQLite really has (sqlite_master, as the migrations made
// it) has a PostgreSQL counterpart and is copied row for row; values the two dialects store
// differently (booleans, JSON, timestamps, integers past 2^53) arrive as the same JS values, and
// serial columns continue after the copied ids; a refused or failed copy leaves no row behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getTableColumns, getTableName } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { bigint, boolean, jsonb, pgTable, serial, text as pgText, timestamp } from 'drizzle-orm/pg-core';
import { getTableConfig, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createReceipts } from '../../../src/audit/receipts.ts';
import { copyTables } from '../../../src/store/migrate-to/copy.ts';
import { migrateSqliteToPostgres, MigrateToError } from '../../../src/store/migrate-to/migrate-to.ts';
import { openSqliteSource } from '../../../src/store/migrate-to/source.ts';
import { pairTables, type TablePair } from '../../../src/store/migrate-to/tables.ts';
import * as pgSchema from '../../../src/store/postgres/schema.ts';
import * as sqliteSchema from '../../../src/store/sqlite/schema.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';
import { freshPostgresUrl, postgresUnavailable, skipPostgres } from '../../setup/postgres.ts';

const dirs: string[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.end()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'consulate-migrate-to-'));
  dirs.push(dir);
  return join(dir, 'consulate.db');
};
async function connect(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

/** A migrated SQLite database as `serve` leaves it, with `receipts` real chained receipts. */
async function sqliteInstall(receipts = 0): Promise<string> {
  const file = tempFile();
  const store = openSqliteStore(file);
  const issuing = createReceipts(store.audit);
  for (let i = 0; i < receipts; i++) await issuing.record({ event: 'passport.issued', clientId: 'bot', tokenJti: `jti-${i}`, details: { i, note: 'ünïcode ✓' } });
  await store.close();
  return file;
}

/** The first allowed value of each column its table's CHECK constraints restrict to a list (`"t"."c" in ('a', …)`). */
function allowedValues(sqlite: Database.Database, table: string): Record<string, string> {
  const ddl = (sqlite.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
  return Object.fromEntries([...ddl.matchAll(/"(\w+)"\s+in\s*\(\s*'([^']*)'/gi)].map((m) => [m[1], m[2]]));
}

/** One row in every still-empty table, from the column types alone; foreign keys point at the row made for their table. */
function fillEveryTable(file: string, pairs: readonly TablePair[]): void {
  const sqlite = new Database(file);
  const db = drizzleSqlite(sqlite);
  const made = new Map<string, Record<string, unknown>>();
  for (const { name, source } of pairs) {
    if ((sqlite.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n > 0) continue;
    const allowed = allowedValues(sqlite, name);
    const byName: Record<string, unknown> = {};
    for (const column of Object.values(getTableColumns(source))) {
      byName[column.name] =
        column.name in allowed ? allowed[column.name]
        : column.dataType === 'number' ? 1_700_000_000 + Object.keys(byName).length
        : column.dataType === 'boolean' ? true
        : column.dataType === 'json' ? { generated: `${name}.${column.name}` }
        : column.dataType === 'date' ? new Date(1_700_000_000_000)
        : `${name}.${column.name}-value`;
    }
    for (const fk of getTableConfig(source).foreignKeys) {
      const ref = fk.reference();
      const parent = made.get(getTableName(ref.foreignTable));
      ref.columns.forEach((column, i) => (byName[column.name] = parent?.[ref.foreignColumns[i]?.name as string]));
    }
    made.set(name, byName);
    const row = Object.fromEntries(Object.entries(getTableColumns(source)).map(([key, column]) => [key, byName[column.name]]));
    db.insert(source).values(row as never).run();
  }
  sqlite.close();
}

/** Every row of a table by SQL column name, in a stable order. */
async function rowsOf(client: pg.Client, table: string): Promise<Record<string, unknown>[]> {
  return (await client.query(`SELECT * FROM "${table}" ORDER BY 1`)).rows as Record<string, unknown>[];
}
function sqliteRowsOf(file: string, table: string): Record<string, unknown>[] {
  const sqlite = new Database(file, { readonly: true });
  try {
    return sqlite.prepare(`SELECT * FROM "${table}" ORDER BY 1`).all() as Record<string, unknown>[];
  } finally {
    sqlite.close();
  }
}
/** PostgreSQL's bigint comes back from pg as text; the copy must keep the number. */
const normalised = (rows: Record<string, unknown>[]) => rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && v.length < 16 ? Number(v) : v])));

describe('migrate-to: the tables', () => {
  it('every table the SQLite migrations create (sqlite_master) has a PostgreSQL counterpart with the same columns', async () => {
    const file = await sqliteInstall();
    const sqlite = new Database(file, { readonly: true });
    const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '__drizzle_migrations' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    const columns = Object.fromEntries(tables.map((t) => [t, (sqlite.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name).sort()]));
    sqlite.close();

    const pairs = pairTables(sqliteSchema, pgSchema);
    expect(tables.length).toBeGreaterThan(20);
    expect(pairs.map((p) => p.name).sort()).toEqual(tables);
    for (const pair of pairs) expect({ table: pair.name, columns: pair.columns.map((c) => c.name).sort() }).toEqual({ table: pair.name, columns: columns[pair.name] });
  });

  it('a table only SQLite has, or a column type with no conversion, is named before anything is copied', () => {
    const extra = sqliteTable('only_here', { id: text('id').primaryKey() });
    expect(() => pairTables({ ...sqliteSchema, extra }, pgSchema)).toThrow(/table only_here has no PostgreSQL counterpart/);
    const oddSqlite = sqliteTable('odd', { at: integer('at', { mode: 'timestamp' }) });
    const oddPg = pgTable('odd', { at: pgText('at') });
    expect(() => pairTables({ oddSqlite }, { oddPg })).toThrow(/odd\.at: no conversion from date to string/);
  });

  it('tables come after the tables their foreign keys reference', () => {
    const names = pairTables(sqliteSchema, pgSchema).map((p) => p.name);
    expect(names.indexOf('subjects')).toBeLessThan(names.indexOf('upstream_accounts'));
  });
});

const title = skipPostgres() ? `migrate-to into PostgreSQL (skipped: ${postgresUnavailable()})` : 'migrate-to into PostgreSQL';

describe.skipIf(skipPostgres())(title, () => {
  it('copies every table row for row, in batches, with the receipt chain byte for byte', async () => {
    const file = await sqliteInstall(7);
    const pairs = pairTables(sqliteSchema, pgSchema);
    fillEveryTable(file, pairs);
    const url = await freshPostgresUrl();

    const report = await migrateSqliteToPostgres({ sqliteFile: file, targetUrl: url, batchRows: 3 });

    expect(report.tables.map((t) => t.name).sort()).toEqual(pairs.map((p) => p.name).sort());
    expect(report.receipts).toBe(7);
    const client = await connect(url);
    for (const pair of pairs) {
      const source = sqliteRowsOf(file, pair.name);
      expect(source.length, pair.name).toBeGreaterThan(0);
      expect({ table: pair.name, rows: report.tables.find((t) => t.name === pair.name)?.rows }).toEqual({ table: pair.name, rows: source.length });
      expect({ table: pair.name, rows: normalised(await rowsOf(client, pair.name)) }).toEqual({ table: pair.name, rows: source });
    }
  });

  it('refuses a target that holds data, with one line, and writes nothing', async () => {
    const file = await sqliteInstall(2);
    const url = await freshPostgresUrl();
    const client = await connect(url);
    await client.query('CREATE TABLE notes (body text)');
    await client.query("INSERT INTO notes VALUES ('kept')");

    const refused = migrateSqliteToPostgres({ sqliteFile: file, targetUrl: url });
    await expect(refused).rejects.toThrow(MigrateToError);
    await expect(refused).rejects.toThrow(/^the target database .* already holds data \(notes\): migrate-to copies into an empty database only; nothing was written$/);
    // Not even the schema: no table but the one that was there.
    const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
    expect(tables.rows).toEqual([{ table_name: 'notes' }]);
  });

  it('a chain that does not verify (an altered receipt) is refused and no row is copied', async () => {
    const file = await sqliteInstall(3);
    const sqlite = new Database(file);
    sqlite.prepare("UPDATE audit_records SET details = '{\"i\":99}' WHERE seq = 2").run();
    sqlite.close();
    const url = await freshPostgresUrl();

    await expect(migrateSqliteToPostgres({ sqliteFile: file, targetUrl: url })).rejects.toThrow(/the receipt chain does not verify after the copy \(receipt seq 2\); nothing was copied/);
    const client = await connect(url);
    for (const table of ['audit_records', 'signing_keys', 'subjects']) expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 0 });
  });

  it('a target out of reach: DatabaseUnreachableError without the password', async () => {
    const file = await sqliteInstall();
    const attempt = migrateSqliteToPostgres({ sqliteFile: file, targetUrl: 'postgres://consulate:s3cret-pw@127.0.0.1:1/consulate' });
    await expect(attempt).rejects.toThrow(/^cannot reach the database at postgres:\/\/consulate@127\.0\.0\.1:1\/consulate \(password hidden\): /);
    await expect(attempt).rejects.not.toThrow(/s3cret-pw/);
  });

  it('converts what the dialects store differently and moves serial sequences past the copied ids', async () => {
    // A table as a later schema might have it: boolean, JSON, timestamp, a serial id, a huge integer.
    const things = sqliteTable('things', {
      id: integer('id').primaryKey({ autoIncrement: true }),
      flag: integer('flag', { mode: 'boolean' }).notNull(),
      data: text('data', { mode: 'json' }),
      at: integer('at', { mode: 'timestamp' }),
      big: integer('big'),
      raw: text('raw'),
    });
    const thingsPg = pgTable('things', {
      id: serial('id').primaryKey(),
      flag: boolean('flag').notNull(),
      data: jsonb('data'),
      at: timestamp('at', { withTimezone: true }),
      big: bigint('big', { mode: 'bigint' }),
      raw: jsonb('raw'),
    });
    const file = tempFile();
    const sqlite = new Database(file);
    sqlite.exec('CREATE TABLE things (id integer PRIMARY KEY AUTOINCREMENT, flag integer NOT NULL, data text, at integer, big integer, raw text)');
    const insert = sqlite.prepare('INSERT INTO things (id, flag, data, at, big, raw) VALUES (?, ?, ?, ?, ?, ?)');
    insert.run(3, 1, '{"a":[1,2],"b":"x"}', 1_700_000_000, 9_007_199_254_740_993n, '{"plain":"text holding JSON"}');
    insert.run(41, 0, null, null, -5, null);
    sqlite.close();
    const url = await freshPostgresUrl();
    const client = await connect(url);
    await client.query('CREATE TABLE things (id serial PRIMARY KEY, flag boolean NOT NULL, data jsonb, at timestamptz, big bigint, raw jsonb)');

    const source = openSqliteSource(file, { migrate: false });
    const copied = await drizzlePg(client).transaction((tx) => copyTables(tx as never, source, pairTables({ things }, { thingsPg }), { batchRows: 1 }));
    source.close();

    expect(copied).toEqual([{ name: 'things', rows: 2 }]);
    const rows = (await client.query("SELECT id, flag, data, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, big::text AS big, raw FROM things ORDER BY id")).rows;
    expect(rows).toEqual([
      { id: 3, flag: true, data: { a: [1, 2], b: 'x' }, at: '2023-11-14 22:13:20', big: '9007199254740993', raw: { plain: 'text holding JSON' } },
      { id: 41, flag: false, data: null, at: null, big: '-5', raw: null },
    ]);
    // The next id a node inserts comes after the copied ones (a sequence left at 1 would collide later).
    expect((await client.query('INSERT INTO things (flag) VALUES (true) RETURNING id')).rows).toEqual([{ id: 42 }]);
  });
});
