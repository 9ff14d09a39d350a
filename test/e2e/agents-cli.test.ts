// `consulate agent` and `consulate delegation` as an operator runs them: a real CLI process per
// command against the config directory and database of a running Consulate. A new agent file is
// applied by hot reload; suspend, resume and retire are runtime state in the database, in force for
// the server's very next request with no reload and no file change — a suspended agent gets no
// token and its Passports stop working.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashSecret, verifySecret } from '../../src/clients/secrets.ts';
import { loadConfig } from '../../src/config/load.ts';
import { runConsulate } from './support/cli.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { fixtureEnv, makeConfigDir, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, api, exchangeGrant, personTokens } from './support/delegation.ts';

const secretOf = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;

// Comments, a quoted value and a blank line: all must survive a state change untouched.
const assistantYaml = `# The research assistant: reads the demo API for the eng group.
client_id: assistant
kind: agent
name: Research Assistant
owner: Owner@Example.test   # answers for it
state: "active"  # changed with consulate agent suspend|resume|retire
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret(secretOf('assistant'))}
grant_types: [client_credentials]
resources:
  ${api}:
    scopes: [read-data]   # read only

delegation:
  act_for:
    groups: [eng]
  subject_token_clients: [web-app]
  max_chain: 2
`;

const helperYaml = `client_id: helper
kind: agent
name: Helper
owner: owner@example.test
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret(secretOf('helper'))}
grant_types: [${exchangeGrant}]
resources:
  ${api}:
    scopes: [read-data]
    budget: { uses: 5 }
delegation:
  act_for: { anyone: true }
  subject_token_clients: [web-app]
`;

/** Runs `consulate <args>` to completion, with the fixture's environment and no CONSULATE_* variables. */
const consulate = (args: string[]) => runConsulate(args, fixtureEnv(), 15_000);

describe('consulate agent and consulate delegation', () => {
  let server: TestConsulate;
  let configDir: string;
  let dataDir: string;
  const on = () => ['--config', configDir, '--data-dir', dataDir];
  const file = (id: string) => join(configDir, 'clients', `${id}.yaml`);

  beforeAll(async () => {
    const paths = makeConfigDir({ 'clients/assistant.yaml': assistantYaml, 'clients/helper.yaml': helperYaml });
    ({ configDir, dataDir } = paths);
    server = await startConsulate({ dir: paths.dir, reuseConfig: true });
  });
  afterAll(async () => server?.stop());

  const clientCredentials = (id: string) => postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, { authorization: basicAuth(id, secretOf(id)) });
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;
  const audit = async (event: string) => (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === event);

  /** Until the running server has reloaded and sees `id` in `state`. */
  async function reloadedTo(id: string, state: string | undefined): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (server.config.clients.get(id)?.state !== state) {
      if (Date.now() > deadline) throw new Error(`the server did not reload ${id} to ${state} (it has ${server.config.clients.get(id)?.state})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('every command documents itself with --help', async () => {
    const commands: [string[], string][] = [
      [['agent'], 'suspend'],
      [['agent', 'list'], '--json'],
      [['agent', 'show'], '<client_id>'],
      [['agent', 'create'], '--owner <email>'],
      [['agent', 'suspend'], '--data-dir <dir>'],
      [['agent', 'resume'], '--data-dir <dir>'],
      [['agent', 'suspend'], 'every node sharing the database'],
      [['agent', 'suspend'], '--database-url <url>'],
      [['agent', 'show'], '--database-url <url>'],
      [['agent', 'list'], '--data-dir <dir>'],
      [['agent', 'retire'], 'final'],
      [['delegation'], 'revoke'],
      [['delegation', 'list'], '--agent <client_id>'],
      [['delegation', 'revoke'], '<did>'],
    ];
    const results = await Promise.all(commands.map(([args]) => consulate([...args, '--help'])));
    results.forEach((result, i) => {
      const [args, mentions] = commands[i]!;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Usage: consulate ${args.join(' ')}`);
      expect(result.stdout).toContain(mentions);
    });
  }, 60_000);

  it('list shows every agent with name, owner, state (and where it is set) and file, and no other client', async () => {
    const result = await consulate(['agent', 'list', ...on()]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+OWNER\s+STATE\s+FROM\s+FILE$/);
    expect(lines.find((l) => l.startsWith('assistant '))).toMatch(/^assistant\s+Research Assistant\s+Owner@Example\.test\s+active\s+file\s+\S*clients\/assistant\.yaml$/);
    expect(lines.find((l) => l.startsWith('helper '))).toMatch(/^helper\s+Helper\s+owner@example\.test\s+active\s+file\s+/);
    expect(result.stdout).not.toContain('web-app');

    const json = JSON.parse((await consulate(['agent', 'list', '--json', ...on()])).stdout) as { client_id: string; state: string; owner: string }[];
    expect(json.map((a) => a.client_id)).toEqual(['assistant', 'helper']);
    expect(json[0]).toMatchObject({ state: 'active', state_from: 'file', file_state: 'active', owner: 'Owner@Example.test' });
    // Without a database yet (no --data-dir: the default one does not exist), the files' states, and none is created.
    const bare = await consulate(['agent', 'list', '--config', configDir, '--data-dir', join(dataDir, 'none')]);
    expect(bare.stdout).toMatch(/^assistant\s.*\sactive\s+file\s/m);
    expect(existsSync(join(dataDir, 'none'))).toBe(false);
  }, 60_000);

  it('show explains the delegation policy in words, without the secret hash', async () => {
    const result = await consulate(['agent', 'show', 'assistant', ...on()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('agent assistant (Research Assistant)');
    expect(result.stdout).toMatch(/state:\s+active \(the file's default; nothing set in the database\)\n/);
    expect(result.stdout).toMatch(/owner:\s+Owner@Example\.test/);
    expect(result.stdout).toMatch(/acts for:\n\s+members of the groups: eng/);
    expect(result.stdout).toContain('tokens issued to the clients: web-app');
    expect(result.stdout).toContain('longest chain: 2 actors');
    expect(result.stdout).toMatch(/https:\/\/api\.demo\.example \(Demo API\)\n\s+scopes: read-data/);
    expect(result.stdout).not.toContain('sha256:');
    expect((await consulate(['agent', 'show', 'helper', '--config', configDir])).stdout).toContain('budget per delegation: 5 uses');

    const notAgent = await consulate(['agent', 'show', 'web-app', '--config', configDir]);
    expect(notAgent.code).toBe(1);
    expect(notAgent.stderr).toContain('web-app is a client of kind client, not an agent');
  }, 60_000);

  it('create writes an active agent acting for nobody yet; --secret prints the secret once and the file holds its hash', async () => {
    const result = await consulate(['agent', 'create', 'night-owl', '--owner', 'grace@example.test', '--name', 'Night Owl', '--secret', '--config', configDir]);
    expect(result.code, result.stderr).toBe(0);
    const secret = /^secret: (\S+)$/m.exec(result.stdout)?.[1];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.stdout.split(secret!)).toHaveLength(2);
    expect(result.stderr).not.toContain(secret!);

    const text = readFileSync(file('night-owl'), 'utf8');
    expect(text).not.toContain(secret!);
    expect(text).toMatch(/^# .*Fill in `resources`/m);
    const written = parse(text) as Record<string, unknown>;
    expect(written).toMatchObject({ client_id: 'night-owl', kind: 'agent', name: 'Night Owl', owner: 'grace@example.test', state: 'active', token_endpoint_auth_method: 'client_secret_basic' });
    expect(await verifySecret(secret!, written.secret_hash as string)).toBe(true);

    // The config loads with it, and it may act for nobody.
    const agent = loadConfig(configDir, { env: fixtureEnv() }).clients.get('night-owl')!;
    expect(agent.delegation?.act_for).toEqual({ anyone: false, people: [], groups: [], clients: [] });
    expect(agent.resources).toEqual({});
    // The running server picked it up by itself.
    await reloadedTo('night-owl', 'active');

    // Never over an existing client or file.
    const again = await consulate(['agent', 'create', 'night-owl', '--owner', 'mallory@example.test', '--secret', '--config', configDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('a client night-owl already exists');
    expect(again.stdout).not.toMatch(/secret:/);
    expect(readFileSync(file('night-owl'), 'utf8')).toBe(text);
    const taken = await consulate(['agent', 'create', 'web-app', '--owner', 'mallory@example.test', '--secret', '--config', configDir]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('a client web-app already exists');
  }, 30_000);

  it('create with --jwks-uri registers a private_key_jwt agent; bad arguments are refused and write nothing', async () => {
    const keys = await consulate(['agent', 'create', 'key-bot', '--owner', 'grace@example.test', '--jwks-uri', 'https://keys.example.test/jwks.json', '--config', configDir]);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.stdout).not.toMatch(/secret:/);
    expect(parse(readFileSync(file('key-bot'), 'utf8'))).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://keys.example.test/jwks.json' });
    expect(loadConfig(configDir, { env: fixtureEnv() }).clients.get('key-bot')?.kind).toBe('agent');

    const neither = await consulate(['agent', 'create', 'bot-a', '--owner', 'grace@example.test', '--config', configDir]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--jwks-uri <url> (private_key_jwt, preferred) or --secret');
    const both = await consulate(['agent', 'create', 'bot-b', '--owner', 'grace@example.test', '--secret', '--jwks-uri', 'https://keys.example.test/j', '--config', configDir]);
    expect(both.code).toBe(2);
    const badOwner = await consulate(['agent', 'create', 'bot-c', '--owner', 'grace', '--secret', '--config', configDir]);
    expect(badOwner.code).toBe(2);
    expect(badOwner.stderr).toContain('--owner "grace" is not an e-mail address');
    const badId = await consulate(['agent', 'create', '../escape', '--owner', 'grace@example.test', '--secret', '--config', configDir]);
    expect(badId.code).toBe(2);
    // Checked with the whole config first: a problem is reported at its place and no file is left.
    const plainHttp = await consulate(['agent', 'create', 'bot-d', '--owner', 'grace@example.test', '--jwks-uri', 'http://keys.example.test/jwks', '--config', configDir]);
    expect(plainHttp.code).toBe(1);
    expect(plainHttp.stderr).toMatch(/clients\/bot-d\.yaml:\d+:\d+  jwks_uri  must be an https URL/);
    expect(plainHttp.stderr).toContain('nothing written');
    for (const id of ['bot-a', 'bot-b', 'bot-c', 'bot-d']) expect(existsSync(file(id))).toBe(false);
    expect(existsSync(join(configDir, 'escape.yaml'))).toBe(false);
  }, 60_000);

  it('suspend: the running server refuses it tokens at the very next request and its earlier Passport introspects inactive; the file is unchanged', async () => {
    const before = await clientCredentials('assistant');
    expect(before.status, before.text).toBe(200);
    const passport = before.body.access_token as string;
    expect((await introspect(passport)).active).toBe(true);
    const original = readFileSync(file('assistant'), 'utf8');

    const result = await consulate(['agent', 'suspend', 'assistant', ...on()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('agent assistant: active → suspended');
    expect(readFileSync(file('assistant'), 'utf8')).toBe(original);

    // No reload, no wait: the server's config still says active, the database decides.
    const refused = await clientCredentials('assistant');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect((await introspect(passport)).active).toBe(false);
    expect(server.config.clients.get('assistant')?.state).toBe('active');
    const records = await audit('agent.suspended');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ clientId: 'assistant', details: { by: expect.stringMatching(/^operator:cli/), from: 'active', to: 'suspended', from_source: 'config' } });
    // show and list say so, and where it is set.
    expect((await consulate(['agent', 'show', 'assistant', ...on()])).stdout).toMatch(/state:\s+suspended \(set in the database by operator:cli\S* at \d{4}-\d\d-\d\dT[\d:]+Z; the file says active\)\n\s+it gets no tokens; its Passports introspect inactive\n/);
    expect((await consulate(['agent', 'list', ...on()])).stdout).toMatch(/^assistant\s.*\ssuspended\s+database\s+\S*clients\/assistant\.yaml$/m);

    // Again: nothing to change, nothing recorded.
    const again = await consulate(['agent', 'suspend', 'assistant', ...on()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already suspended');
    expect(await audit('agent.suspended')).toHaveLength(1);
  }, 30_000);

  it('resume: tokens again, recorded', async () => {
    const result = await consulate(['agent', 'resume', 'assistant', ...on()]);
    expect(result.code, result.stderr).toBe(0);
    expect((await clientCredentials('assistant')).status).toBe(200);
    expect(await audit('agent.resumed')).toMatchObject([{ clientId: 'assistant', details: { by: expect.stringMatching(/^operator:cli/), from: 'suspended', to: 'active' } }]);
  }, 30_000);

  it('retire is final: no tokens, and neither resume nor suspend undo it', async () => {
    const passport = (await clientCredentials('assistant')).body.access_token as string;
    const original = readFileSync(file('assistant'), 'utf8');
    const result = await consulate(['agent', 'retire', 'assistant', ...on()]);
    expect(result.code, result.stderr).toBe(0);
    expect((await clientCredentials('assistant')).body.error).toBe('unauthorized_client');
    expect((await introspect(passport)).active).toBe(false);
    expect(await audit('agent.retired')).toMatchObject([{ clientId: 'assistant', details: { by: expect.stringMatching(/^operator:cli/), from: 'active', to: 'retired' } }]);

    for (const change of ['resume', 'suspend']) {
      const refused = await consulate(['agent', change, 'assistant', ...on()]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('agent assistant is retired, and retirement is final');
    }
    expect(readFileSync(file('assistant'), 'utf8')).toBe(original);
    expect((await clientCredentials('assistant')).body.error).toBe('unauthorized_client');
    expect((await consulate(['agent', 'show', 'assistant', ...on()])).stdout).toMatch(/state:\s+retired \(set in the database/);
    expect(await audit('agent.resumed')).toHaveLength(1);
  }, 30_000);

  it('refuses clients that are not agents, and unknown ids, naming what is wrong', async () => {
    const webApp = readFileSync(file('web-app'), 'utf8');
    const notAgent = await consulate(['agent', 'suspend', 'web-app', ...on()]);
    expect(notAgent.code).toBe(1);
    expect(notAgent.stderr).toContain('web-app is a client of kind client, not an agent');
    expect(readFileSync(file('web-app'), 'utf8')).toBe(webApp);
    const unknown = await consulate(['agent', 'retire', 'no-such-agent', ...on()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no client no-such-agent');
  }, 30_000);

  it('delegation list and revoke: the operator ends a delegation and every Passport minted under it', async () => {
    const ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    const person = await personTokens(server, ada);
    const exchanged = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: person.access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, { authorization: basicAuth('helper', secretOf('helper')) });
    expect(exchanged.status, exchanged.text).toBe(200);
    const delegated = exchanged.body.access_token as string;
    const active = await introspect(delegated);
    expect(active.active).toBe(true);
    const did = active.did as string;

    const json = await consulate(['delegation', 'list', '--agent', 'helper', '--json', ...on()]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ did, sub: ada.sub, agent: 'helper', resource: api, revoked_at: null, budget: { uses: 5, used_uses: 0 } })]);
    const table = await consulate(['delegation', 'list', '--sub', ada.sub, ...on()]);
    expect(table.stdout).toMatch(new RegExp(`^${did}\\s+helper\\s+${ada.sub}\\s+${api.replace(/\./g, '\\.')}\\s.*\\s0/5 uses\\s+live$`, 'm'));
    expect((await consulate(['delegation', 'list', '--sub', 'nobody', ...on()])).stdout).toContain('no unexpired delegations match');

    const revoked = await consulate(['delegation', 'revoke', did, ...on()]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`delegation ${did} revoked`);
    expect((await introspect(delegated)).active).toBe(false);
    expect(await audit('delegation.revoked')).toMatchObject([{ clientId: 'helper', subject: ada.sub, details: { did, by: 'operator', operator: expect.stringMatching(/^operator:cli/) } }]);
    expect((await consulate(['delegation', 'list', '--agent', 'helper', ...on()])).stdout).toMatch(/revoked by operator$/m);

    const again = await consulate(['delegation', 'revoke', did, ...on()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`delegation ${did} was already revoked`);
    const unknown = await consulate(['delegation', 'revoke', 'no-such-did', ...on()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no delegation no-such-did');
    expect(await audit('delegation.revoked')).toHaveLength(1);
  }, 60_000);
});
