// An agent using CIBA acts for a person: its delegation policy decides whom it may ask for and
// what (the same policy as token exchange), and the Passport it collects records it in `act`.
// Approvals go through the inbox's JSON API with the person's own Passport.
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { discover, postForm } from './support/clients.ts';
import { addPerson, agentAuth, agentSecret, agentYaml, api, envName, personTokens, type Person } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const withCiba = (yaml: string) => yaml.replace(/grant_types: \[[^\]]*\]/, `grant_types: [${cibaGrant}]`);

describe('CIBA by an agent', () => {
  let server: TestConsulate;
  let ada: Person;
  let bob: Person;
  const agents = {
    'eng-helper': withCiba(agentYaml('eng-helper', 'act_for: { groups: [eng] }', `  ${api}:\n    scopes: [read-data]`)),
  };

  beforeAll(async () => {
    const files = Object.fromEntries(Object.entries(agents).map(([id, yaml]) => [`clients/${id}.yaml`, yaml]));
    server = await startConsulate({ files, env: { [envName('eng-helper')]: hashSecret(agentSecret('eng-helper')) } });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
    bob = await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: true, groups: ['sales'] });
  });
  afterAll(async () => server?.stop());

  const ask = (form: Record<string, string>) => postForm(server, '/bc-authorize', form, agentAuth('eng-helper'));

  it('may ask only for people its policy names, and only within its resources and scopes', async () => {
    expect((await ask({ scope: 'openid read-data', login_hint: bob.sub, resource: api })).body).toMatchObject({ error: 'invalid_grant', error_description: 'this client may not act for the subject of the token' });
    expect((await ask({ scope: 'openid write-data', login_hint: ada.sub, resource: api })).body).toMatchObject({ error: 'invalid_scope' });
    expect(await server.deps.store.approvals.listOpen(server.deps.now())).toEqual([]);
  });

  it('the Passport it collects after the person approves names the person in sub and the agent in act', async () => {
    const config = await discover(server, 'eng-helper', client.ClientSecretBasic(agentSecret('eng-helper')));
    const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid read-data', login_hint: ada.sub, resource: api, binding_message: 'Read your data' });
    const passport = (await personTokens(server, ada, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const [open] = await server.deps.store.approvals.listOpen(server.deps.now());
    const decided = await fetch(`${server.url}/approvals/api/${open!.id}`, { method: 'POST', headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
    expect(decided.status).toBe(200);
    const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 1 });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: ada.sub, client_id: 'eng-helper', act: { sub: 'eng-helper' }, approval: open!.id, aud: api });
  });
});
