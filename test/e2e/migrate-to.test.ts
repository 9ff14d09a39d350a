// Moving an install from SQLite to PostgreSQL with `consulate db migrate-to`, as an operator does it:
// a server on SQLite hands out real state (a person's Passport and refresh token, an agent's
// exchanged Passport and its delegation, client credentials, keys, receipts); the compiled CLI
// refuses while that server runs, copies once it is stopped, and the same config started on
// PostgreSQL carries on: same keys, the old refresh token redeems, old Passports introspect active,
// new receipts continue the one chain. A second run, a bad URL and a target out of reach are refused
// with one line.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChainBreak } from '../../src/audit/chain.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import type { AuditRecord, Store } from '../../src/store/ports.ts';
import { freshPostgresUrl, postgresUnavailable, skipPostgres } from '../setup/postgres.ts';
import { freePort } from './support/browser.ts';
import { consulateCommand } from './support/cli.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens } from './support/delegation.ts';
import { wholeChain } from '../support/chain.ts';

const execute = promisify(execFile);
const files = { 'clients/assistant.yaml': agentYaml('assistant', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]') };
const env = { [envName('assistant')]: hashSecret(agentSecret('assistant')) };
const webApp = { authorization: basicAuth('web-app', secrets['web-app']) };
const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };

type Result = { code: number; stdout: string; stderr: string };

/** `consulate <args>` (the compiled CLI) with the config's secrets in its environment and no CONSULATE_* from ours. */
async function consulate(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await execute(...consulateCommand(args), { env: { PATH: process.env.PATH, ...fixtureEnv(), ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Row count of every table in the target's public schema (what "changes nothing" compares). */
async function tableCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows;
    const counts: Record<string, number> = {};
    for (const { name } of tables) counts[name] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`)).rows[0]?.n);
    return counts;
  } finally {
    await client.end();
  }
}

const jwks = async (node: TestConsulate) => ((await (await fetch(`${node.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
const introspect = async (node: TestConsulate, token: string) => (await postForm(node, '/introspect', { token }, demoApi)).body;

const title = skipPostgres() ? `consulate db migrate-to (skipped: ${postgresUnavailable()})` : 'consulate db migrate-to';

describe.skipIf(skipPostgres())(title, () => {
  let onSqlite: TestConsulate;
  let onPostgres: TestConsulate | undefined;
  let url: string;
  let issuer: string;
  let adaSub: string;
  let person: { access_token: string; refresh_token?: string };
  let exchanged: string;
  let agentPassport: string;
  let did: string;
  let kids: string[];
  let chain: AuditRecord[];
  let migrated: Result;
  let whileRunning: Result;
  let targetWhileRunning: Record<string, number>;

  beforeAll(async () => {
    url = await freshPostgresUrl();
    // One issuer before and after, as in a real move (the load balancer's address does not change).
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    onSqlite = await startConsulate({ files, env, port, issuer });
    const ada = await addPerson(onSqlite, 'ada', { email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace' });
    adaSub = ada.sub;
    person = await personTokens(onSqlite, ada);
    const exchange = await postForm(onSqlite, '/token', { grant_type: exchangeGrant, subject_token: person.access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, agentAuth('assistant'));
    expect(exchange.status, exchange.text).toBe(200);
    exchanged = exchange.body.access_token as string;
    did = (await onSqlite.deps.store.delegations.list({}, onSqlite.deps.now()))[0]?.did as string;
    const credentials = await postForm(onSqlite, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    expect(credentials.status, credentials.text).toBe(200);
    agentPassport = credentials.body.access_token as string;
    kids = await jwks(onSqlite);

    // While the SQLite server runs, the copy is refused (it would miss what the server writes next).
    const args = ['db', 'migrate-to', url, '--config', onSqlite.configDir, '--data-dir', onSqlite.dataDir];
    whileRunning = await consulate(args);
    targetWhileRunning = await tableCounts(url);

    chain = await wholeChain(onSqlite.deps.store);
    await onSqlite.stop({ keepData: true });
    migrated = await consulate(args);
    onPostgres = await startConsulate({ dir: onSqlite.dir, reuseConfig: true, env: { ...env, CONSULATE_DATABASE_URL: url }, port, issuer });
  });
  afterAll(async () => {
    await onPostgres?.stop();
  });

  it('refuses while a server has the SQLite database open: one line, exit 1, nothing written to the target', () => {
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.stderr).toMatch(/^the SQLite database \S+consulate\.db is in use by another process \(a running consulate serve\?\): stop every server using it, then run this again\n$/);
    expect(targetWhileRunning).toEqual({});
  });

  it('copies every table and prints the rows copied per table', () => {
    expect(migrated.code, migrated.stderr).toBe(0);
    const rows = Object.fromEntries([...migrated.stdout.matchAll(/^([a-z_]+)\s+(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(migrated.stdout).toMatch(/^TABLE\s+ROWS$/m);
    expect(rows).toMatchObject({ signing_keys: kids.length, audit_records: chain.length, delegations: 1, subjects: 1, refresh_tokens: 1, token_families: 1 });
    expect(migrated.stdout).toMatch(/^copied \d+ row\(s\) of \d+ table\(s\) into postgres:\/\/\S+ \(password hidden\)$/m);
    expect(migrated.stdout).toContain(`the receipt chain (${chain.length} receipt(s)) verifies`);
  });

  it('on PostgreSQL the same config publishes the same keys, and the old Passports verify and introspect active', async () => {
    const node = onPostgres as TestConsulate;
    expect(await jwks(node)).toEqual(kids);
    const keySet = createRemoteJWKSet(new URL(`${node.url}/jwks`));
    for (const token of [person.access_token, exchanged, agentPassport]) {
      await expect(jwtVerify(token, keySet, { issuer, audience: api })).resolves.toBeTruthy();
    }
    expect(await introspect(node, person.access_token)).toMatchObject({ active: true, sub: adaSub, client_id: 'web-app', iss: issuer });
    expect(await introspect(node, exchanged)).toMatchObject({ active: true, client_id: 'assistant' });
    expect(await introspect(node, agentPassport)).toMatchObject({ active: true, client_id: 'agent-basic' });
    expect((await node.deps.store.delegations.list({}, node.deps.now())).map((d) => d.did)).toEqual([did]);
  });

  it('the old refresh token redeems once on PostgreSQL, and new receipts continue the copied chain', async () => {
    const node = onPostgres as TestConsulate;
    const refreshed = await postForm(node, '/token', { grant_type: 'refresh_token', refresh_token: person.refresh_token as string }, webApp);
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(person.refresh_token);
    // Rotation state came along too: the old one presented again is reuse.
    const reused = await postForm(node, '/token', { grant_type: 'refresh_token', refresh_token: person.refresh_token as string }, webApp);
    expect(reused.body.error).toBe('invalid_grant');

    const after = await wholeChain(node.deps.store);
    expect(after.length).toBeGreaterThan(chain.length);
    expect(after.slice(0, chain.length)).toEqual(chain);
    expect(findChainBreak(after)).toBe(-1);
    expect(after.slice(chain.length).map((r) => r.event)).toContain('passport.issued');
  });

  it('a second migrate-to into the same database is refused with one line and changes nothing', async () => {
    const before = await tableCounts(url);
    const again = await consulate(['db', 'migrate-to', url, '--config', onSqlite.configDir, '--data-dir', onSqlite.dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^the target database postgres:\/\/\S+ \(password hidden\) already holds data \([a-z_, …]+\): migrate-to copies into an empty database only; nothing was written\n$/);
    expect(again.stdout).toBe('');
    expect(await tableCounts(url)).toEqual(before);
  });

  it('a URL that is not PostgreSQL, or a target out of reach: one line, exit non-zero, no password', async () => {
    for (const bad of ['not-a-url', 'mysql://root:pw@127.0.0.1/consulate']) {
      const result = await consulate(['db', 'migrate-to', bad, '--config', onSqlite.configDir, '--data-dir', onSqlite.dataDir]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('migrate-to needs a PostgreSQL URL: postgres://user:password@host:port/database (or postgresql://…)\n');
    }
    const unreachable = await consulate(['db', 'migrate-to', 'postgres://consulate:s3cret-pw@127.0.0.1:1/consulate', '--config', onSqlite.configDir, '--data-dir', onSqlite.dataDir]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^cannot reach the database at postgres:\/\/consulate@127\.0\.0\.1:1\/consulate \(password hidden\): .+\n$/);
    expect(`${unreachable.stdout}${unreachable.stderr}`).not.toContain('s3cret-pw');
  });

  it('--help says to stop the servers first and what is checked', async () => {
    const help = await consulate(['db', 'migrate-to', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: consulate db migrate-to \[options\] <postgres-url>/);
    expect(help.stdout).toContain('Stop every Consulate server that uses the SQLite database first');
    expect(help.stdout).toContain('receipt');
    const group = await consulate(['db', '--help']);
    expect(group.stdout).toMatch(/^ {2}migrate-to \[options\] <postgres-url> +copy the embedded SQLite database/m);
  });
});
