// A database that cannot serve for a while: token requests are answered 503 with Retry-After (never a
// 500), /healthz never waits on the database, /readyz says not ready, and everything recovers
// without a restart once the database is back. SQLite: a write lock another process holds.
// PostgreSQL: the database refusing connections and dropping the node's.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';

const issue = (server: TestConsulate) =>
  postForm(server, '/token', { grant_type: 'client_credentials', resource: 'https://api.demo.example' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });

async function expectUnavailable(server: TestConsulate) {
  const refused = await issue(server);
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(refused.body).toMatchObject({ error: 'temporarily_unavailable' });
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

describe('SQLite: a write lock held by another process', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate();
  });
  afterAll(async () => server?.stop());

  it('is a 503 with Retry-After after the short lock wait, and the next request after the lock goes is served', async () => {
    expect((await issue(server)).status).toBe(200);
    const other = new Database(join(server.dataDir, 'consulate.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await expectUnavailable(server);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await issue(server)).status).toBe(200);
  });
});

describe.skipIf(skipPostgres())('PostgreSQL: the database refusing the node', () => {
  let server: TestConsulate;
  let admin: pg.Client;
  let name: string;
  beforeAll(async () => {
    const url = await freshPostgresUrl();
    name = new URL(url).pathname.slice(1);
    const adminUrl = new URL(url);
    adminUrl.pathname = '/postgres';
    admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    server = await startConsulate({ env: { CONSULATE_DATABASE_URL: url } });
  });
  afterAll(async () => {
    await server?.stop();
    await admin?.end();
  });

  it('is a 503 with Retry-After, /readyz is 503, and it recovers without a restart', async () => {
    expect((await issue(server)).status).toBe(200);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    try {
      await expectUnavailable(server);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    expect((await issue(server)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
