// PostgreSQL as several nodes see it: two or more Store instances on one database (each its own
// pool, as two processes would have). Receipts stay one gapless verifiable chain, a jti is used once
// across nodes, nodes starting together migrate once and all come up, a newer schema is refused,
// one first signing key per algorithm, a database out of reach is one line without the password.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { findChainBreak } from '../../../src/audit/chain.ts';
import { createReceipts, type Receipt } from '../../../src/audit/receipts.ts';
import { createKeyring } from '../../../src/passports/keys.ts';
import { advisoryLocks } from '../../../src/store/postgres/locks.ts';
import { postgresMigrationsFolder } from '../../../src/store/postgres/migrate.ts';
import { DatabaseUnreachableError, openPostgresStore } from '../../../src/store/postgres/open.ts';
import type { AuditRecord, Store } from '../../../src/store/ports.ts';
import { freshPostgresUrl, postgresUnavailable, skipPostgres } from '../../setup/postgres.ts';
import { wholeChain } from '../../support/chain.ts';

/** The migrations this code ships (drizzle/postgres), oldest first. */
const migrationTags = (JSON.parse(readFileSync(join(postgresMigrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }).entries.map((e) => e.tag);

const issued = (i: number): Receipt => ({ event: 'passport.issued', clientId: 'bot', tokenJti: `jti-${i}`, details: { i } });

async function query<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const title = skipPostgres() ? `PostgreSQL, several nodes (skipped: ${postgresUnavailable()})` : 'PostgreSQL, several nodes';

describe.skipIf(skipPostgres())(title, () => {
  const opened: Store[] = [];
  const node = async (url: string, options = {}) => {
    const store = await openPostgresStore(url, { poolSize: 4, ...options });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((s) => s.close()));
  });

  it('four nodes appending receipts at once build one gapless chain that verifies', async () => {
    const url = await freshPostgresUrl();
    const nodes = await Promise.all([node(url), node(url), node(url), node(url)]);
    const receipts = nodes.map((n) => createReceipts(n.audit));
    for (let wave = 0; wave < 6; wave++) {
      await Promise.all(receipts.flatMap((r, k) => Array.from({ length: 40 }, (_, i) => r.record(issued(wave * 1000 + k * 100 + i)))));
    }
    const chain = await wholeChain(nodes[0] as Store);
    expect(chain).toHaveLength(4 * 6 * 40);
    expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: chain.length }, (_, i) => i + 1));
    expect(findChainBreak(chain)).toBe(-1);
    expect(new Set(chain.map((r) => r.details.i)).size).toBe(chain.length);
  });

  it('a batch the database refuses fails whole (one INSERT), stores nothing, and the chain goes on', async () => {
    const url = await freshPostgresUrl();
    const store = await node(url);
    const receipts = createReceipts(store.audit);
    await receipts.record(issued(0), 'taken-id');
    // A duplicate id violates the unique key: the one multi-row INSERT of that batch is refused.
    const batch = await Promise.allSettled([receipts.record(issued(1)), receipts.record(issued(2), 'taken-id'), receipts.record(issued(3))]);
    expect(batch.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const after = await Promise.all([receipts.record(issued(4)), receipts.record(issued(5))]);
    expect(after.map((r) => r.seq)).toEqual([2, 3]);
    const chain = await wholeChain(store);
    expect(chain.map((r) => r.details.i)).toEqual([0, 4, 5]);
    expect(findChainBreak(chain)).toBe(-1);
  });

  it('a jti used at two nodes at once is accepted exactly once', async () => {
    const url = await freshPostgresUrl();
    const [a, b] = await Promise.all([node(url), node(url)]);
    const ids = Array.from({ length: 50 }, (_, i) => `jti-${i}`);
    const results = await Promise.all(ids.flatMap((id) => [a, b, a, b].map((n) => (n as Store).replay.useOnce('dpop', id, 2_000_000_000, 1_000))));
    for (let i = 0; i < ids.length; i++) expect(results.slice(i * 4, i * 4 + 4).filter(Boolean)).toHaveLength(1);
    // Another scope is another id space; an expired id is purged.
    expect(await (a as Store).replay.useOnce('assertion', 'jti-0', 1_500, 1_000)).toBe(true);
    expect(await (b as Store).replay.purgeExpired(1_600)).toBe(1);
  });

  it('two nodes asking for the same server secret at once get the same one', async () => {
    const url = await freshPostgresUrl();
    const [a, b] = await Promise.all([node(url), node(url)]);
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? (a as Store) : (b as Store)).secrets.getOrCreate('dpop-nonce', `value-${i}`, 1_000)));
    expect(new Set(values).size).toBe(1);
  });

  it('a pending login is taken by one node only', async () => {
    const url = await freshPostgresUrl();
    const [a, b] = await Promise.all([node(url), node(url)]);
    await (a as Store).logins.savePending({ stateHash: 's', browserHash: 'b', upstreamId: 'u', nonce: 'n', codeVerifier: 'v', returnTo: '/', expiresAt: 2_000 });
    const taken = await Promise.all([a, b, a, b].map((n) => (n as Store).logins.takePending('s', 1_000)));
    expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
    expect(taken.find((t) => t)).toMatchObject({ stateHash: 's', acrValues: undefined, maxAge: undefined });
  });

  it('ten nodes starting at once on an empty database all come up, and the migrations ran once', async () => {
    const url = await freshPostgresUrl();
    // A pool of one: the migration's lock and statements use their own connection, not the pool's.
    const nodes = await Promise.all(Array.from({ length: 10 }, () => node(url, { poolSize: 1 })));
    await Promise.all(nodes.map((n) => n.ping()));
    const applied = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
    // Each migration applied exactly once, however many nodes raced.
    expect(Number(applied[0]?.n)).toBe(migrationTags.length);
    const tables = await query<{ n: string }>(url, `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(Number(tables[0]?.n)).toBeGreaterThan(10);
  });

  it('a database with a migration this code does not know (a newer schema) is refused, naming both', async () => {
    const url = await freshPostgresUrl();
    await (await node(url)).close();
    const newer = Date.UTC(2031, 0, 2);
    await query(url, 'INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', ['f00dfeed'.repeat(8), newer]);
    const refused = openPostgresStore(url);
    await expect(refused).rejects.toThrow(/does not know \(hash f00dfeedf00d…, made 2031-01-02T00:00:00\.000Z\).*knows migrations up to /);
    await expect(refused).rejects.toThrow(`knows migrations up to ${migrationTags.at(-1)} (`);
    await expect(refused).rejects.not.toThrow(new URL(url).password);
  });

  it('two nodes ensuring signing keys at once end with one first key per algorithm', async () => {
    const url = await freshPostgresUrl();
    const nodes = await Promise.all([node(url), node(url), node(url)]);
    const keyrings = nodes.map((n) => createKeyring(n.keys, { retentionSeconds: 3600, reloadSeconds: 0.05 }));
    await Promise.all([...keyrings, ...keyrings].map((k) => k.ensureKeys(1_000)));
    const keys = await (nodes[0] as Store).keys.list();
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    // A rotation still adds a next key, even one that signs at once.
    await (keyrings[1] as ReturnType<typeof createKeyring>).rotate(2_000, 0, ['ES256']);
    expect((await (nodes[2] as Store).keys.list()).filter((k) => k.alg === 'ES256')).toHaveLength(2);
  });

  it('statement_timeout applies to every connection of the pool: a receipt batch stuck behind a lock fails, the next goes on', async () => {
    const url = await freshPostgresUrl();
    const store = await node(url, { statementTimeoutMs: 300 });
    const receipts = createReceipts(store.audit);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // Another session holds the chain's advisory lock (as a stuck node would): the append waits, then is cancelled.
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLocks.auditChain]);
      const started = Date.now();
      const error = await receipts.record(issued(1)).catch((e: unknown) => e);
      // drizzle wraps the driver's error ("Failed query: …"); PostgreSQL's own is its cause.
      expect(String((error as Error).cause)).toMatch(/canceling statement due to statement timeout/);
      expect(Date.now() - started).toBeLessThan(5_000);
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryLocks.auditChain]);
    } finally {
      await holder.end();
    }
    expect((await receipts.record(issued(2))).seq).toBe(1);
  });

  it('a database out of reach is one error naming it, without the password', async () => {
    const url = new URL(await freshPostgresUrl());
    url.port = '1';
    const error = await openPostgresStore(url.toString(), { connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot reach the database at postgres:\/\/consulate@127\.0\.0\.1:1\/t_\w+ \(password hidden\): .*ECONNREFUSED/);
    expect(message).not.toContain(url.password);
    expect(message).not.toContain('\n');
  });
});
