// The kill switch on two Consulate nodes sharing one PostgreSQL database, each with its own copy of
// the config directory (as on two machines): `consulate agent suspend` run against the database,
// with node A's config, is in force on both nodes for their very next request (no reload, no file
// edited anywhere): no tokens, exchanges through it refused, its Passports introspect inactive at
// either node. Resume restores both; a retirement racing resumes on both nodes stays final.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { freePort } from './support/browser.ts';
import { consulateCommand } from './support/cli.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentSecret, api, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const run = promisify(execFile);
const helperYaml = [
  'client_id: helper',
  'kind: agent',
  'owner: owner@example.test',
  'token_endpoint_auth_method: client_secret_basic',
  `secret_hash: ${hashSecret(agentSecret('helper'))}`,
  `grant_types: [client_credentials, ${exchangeGrant}]`,
  'resources:',
  `  ${api}:`,
  '    scopes: [read-data]',
  'delegation:',
  '  act_for: { anyone: true }',
  '  subject_token_clients: [web-app]',
  '',
].join('\n');
const helper = { authorization: basicAuth('helper', agentSecret('helper')) };
const demoApi = { authorization: basicAuth('demo-api', secrets['demo-api']) };

describe.skipIf(skipPostgres())('the kill switch on two nodes of one PostgreSQL database', () => {
  let a: TestConsulate;
  let b: TestConsulate;
  let databaseUrl: string;
  let ada: Person;

  beforeAll(async () => {
    databaseUrl = await freshPostgresUrl();
    const files = { 'clients/helper.yaml': helperYaml };
    const env = { CONSULATE_DATABASE_URL: databaseUrl };
    const [portA, portB] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${portA}`;
    [a, b] = await Promise.all([startConsulate({ files, env, port: portA, issuer }), startConsulate({ files, env, port: portB, issuer })]);
    ada = await addPerson(a, 'ada', { email: 'ada@example.test', email_verified: true });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** `consulate agent <change> helper` against the database, with node A's config directory. */
  async function cli(change: string): Promise<string> {
    const { stdout } = await run(...consulateCommand(['agent', change, 'helper', '--config', a.configDir, '--database-url', databaseUrl]), {
      env: { PATH: process.env.PATH, ...fixtureEnv() },
      timeout: 30_000,
    });
    return stdout;
  }
  const clientCredentials = (node: TestConsulate) => postForm(node, '/token', { grant_type: 'client_credentials', resource: api }, helper);
  const exchange = (node: TestConsulate, subject: string) => postForm(node, '/token', { grant_type: exchangeGrant, subject_token: subject, subject_token_type: accessTokenType, resource: api }, helper);
  const introspect = async (node: TestConsulate, token: string) => (await postForm(node, '/introspect', { token }, demoApi)).body.active;

  it('suspended through the CLI: both nodes refuse it at once and its Passports end at both; resumed: both serve it again', async () => {
    const own = await clientCredentials(a);
    expect(own.status, own.text).toBe(200);
    const person = await personTokens(a, ada);
    const delegated = await exchange(b, person.access_token);
    expect(delegated.status, delegated.text).toBe(200);
    const passports = [own.body.access_token as string, delegated.body.access_token as string];
    const fileA = readFileSync(join(a.configDir, 'clients/helper.yaml'), 'utf8');

    expect(await cli('suspend')).toContain('agent helper: active → suspended');
    for (const node of [a, b]) {
      expect((await clientCredentials(node)).body).toMatchObject({ error: 'unauthorized_client', error_description: 'this agent is suspended' });
      expect((await exchange(node, person.access_token)).body.error).toBe('unauthorized_client');
      for (const passport of passports) expect(await introspect(node, passport)).toBe(false);
    }
    // Nothing was reloaded or edited: both nodes' config still says active.
    expect(readFileSync(join(a.configDir, 'clients/helper.yaml'), 'utf8')).toBe(fileA);
    expect([a.config.clients.get('helper')?.state, b.config.clients.get('helper')?.state]).toEqual(['active', 'active']);

    expect(await cli('resume')).toContain('agent helper: suspended → active');
    for (const node of [a, b]) {
      expect((await clientCredentials(node)).status).toBe(200);
      expect((await exchange(node, person.access_token)).status).toBe(200);
      for (const passport of passports) expect(await introspect(node, passport)).toBe(true);
    }
    const receipts = (await b.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event.startsWith('agent.'));
    expect(receipts.map((r) => [r.event, r.clientId])).toEqual([['agent.suspended', 'helper'], ['agent.resumed', 'helper']]);
  }, 90_000);

  it('a retirement racing resumes made at both nodes stays final at both', async () => {
    const set = (node: TestConsulate, state: 'active' | 'retired') => node.deps.store.agentStates.set({ clientId: 'helper', state, changedAt: node.deps.now(), changedBy: `test:${state}` });
    await Promise.all([set(a, 'active'), set(b, 'retired'), set(a, 'active'), set(b, 'active'), set(a, 'active')]);
    for (const node of [a, b]) expect((await clientCredentials(node)).body.error).toBe('unauthorized_client');
    await expect(run(...consulateCommand(['agent', 'resume', 'helper', '--config', a.configDir, '--database-url', databaseUrl]), { env: { PATH: process.env.PATH, ...fixtureEnv() }, timeout: 30_000 })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('agent helper is retired, and retirement is final'),
    });
  }, 60_000);
});
