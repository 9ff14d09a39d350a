// The admin API on two Consulate nodes sharing one PostgreSQL database: an agent suspended through
// node A's admin API is refused at node B on its very next token request (runtime state in the
// database, no file edited, no reload), and resumed through node B it gets tokens at A again.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { freePort } from './support/browser.ts';
import { discover, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { agentAuth, agentSecret, agentYaml, api, envName } from './support/delegation.ts';

const operatorSecret = 'operator-secret-0123456789abcdefghijklmnopqrstuvwxyz';

describe.skipIf(skipPostgres())('the admin API on two nodes of one PostgreSQL database', () => {
  let a: TestConsulate;
  let b: TestConsulate;

  beforeAll(async () => {
    const databaseUrl = await freshPostgresUrl();
    const files = { 'clients/helper.yaml': agentYaml('helper', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]') };
    const env = { CONSULATE_DATABASE_URL: databaseUrl, [envName('helper')]: hashSecret(agentSecret('helper')) };
    const [portA, portB] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${portA}`;
    [a, b] = await Promise.all([startConsulate({ files, env, port: portA, issuer }), startConsulate({ files, env, port: portB, issuer })]);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const operatorPassport = async (node: TestConsulate) =>
    (await client.clientCredentialsGrant(await discover(node, 'operator', client.ClientSecretBasic(operatorSecret)), { resource: 'https://admin.test.example', scope: 'agents:write' })).access_token;
  const change = async (node: TestConsulate, what: string) =>
    (await fetch(new URL(`/admin/v1/agents/helper/${what}`, node.url), { method: 'POST', headers: { authorization: `Bearer ${await operatorPassport(node)}` } })).status;
  const agentToken = (node: TestConsulate) => postForm(node, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, agentAuth('helper'));

  it('suspended at node A: node B refuses the agent at once; resumed at node B: node A serves it again', async () => {
    expect((await agentToken(b)).status).toBe(200);
    expect(await change(a, 'suspend')).toBe(200);
    const refused = await agentToken(b);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect(await change(b, 'resume')).toBe(200);
    expect((await agentToken(a)).status).toBe(200);
    expect((await agentToken(b)).status).toBe(200);
  });
});
