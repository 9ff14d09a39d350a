// The kill switch: an agent suspended through the database (as the CLI, another node, or later the
// account page and admin API do it, here through a second connection to the server's SQLite file)
// is refused at every decision point on the very next request, with no reload and no file change:
// its own tokens, token exchange with it anywhere in the act chain, CIBA requests and collection,
// refresh, device authorization, and introspection and usage reports of its live Passports.
// Resuming restores all of it; retiring is final.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeAgentState, type LifecycleChange } from '../../src/agents/lifecycle.ts';
import { createReceipts } from '../../src/audit/receipts.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import { systemClock } from '../../src/deps.ts';
import type { Store } from '../../src/store/ports.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const helperYaml = agentYaml('helper', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]\nmax_chain: 3', `  ${api}:\n    scopes: [read-data]`).replace(
  /grant_types: \[[^\]]*\]/,
  `grant_types: [client_credentials, ${exchangeGrant}, ${cibaGrant}, refresh_token, ${deviceGrant}]`,
);
const relayYaml = agentYaml('relay', 'act_for: { anyone: true }\nsubject_token_clients: [helper]\nmax_chain: 3', `  ${api}:\n    scopes: [read-data]`);
const courierYaml = agentYaml('courier', 'act_for: { anyone: true }\nsubject_token_clients: [relay]\nmax_chain: 3', `  ${api}:\n    scopes: [read-data]`);

describe('suspending an agent through the database', () => {
  let server: TestConsulate;
  /** A second connection to the server's database: what the CLI or another node writes through. */
  let other: Store;
  let ada: Person;

  beforeAll(async () => {
    server = await startConsulate({
      files: { 'clients/helper.yaml': helperYaml, 'clients/relay.yaml': relayYaml, 'clients/courier.yaml': courierYaml },
      env: Object.fromEntries(['helper', 'relay', 'courier'].map((id) => [envName(id), hashSecret(agentSecret(id))])),
    });
    other = openSqliteStore(join(server.dataDir, 'consulate.db'));
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['eng'] });
  });
  afterAll(async () => {
    await other?.close();
    await server?.stop();
  });

  const change = (id: string, how: LifecycleChange) => changeAgentState({ config: server.config, store: other, receipts: createReceipts(other.audit), now: systemClock }, id, how, 'operator:cli:test');
  const token = (id: string, form: Record<string, string>) => postForm(server, '/token', form, agentAuth(id));
  const introspect = async (passport: string) => (await postForm(server, '/introspect', { token: passport }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body.active;
  const exchange = (id: string, subject: string) => token(id, { grant_type: exchangeGrant, subject_token: subject, subject_token_type: accessTokenType, resource: api, scope: 'read-data' });
  const usage = (passport: string) => postForm(server, '/delegations/usage', { token: passport, uses: '1' }, { authorization: basicAuth('demo-api', secrets['demo-api']) });

  it('its own tokens, exchanges through it, and Passports with it anywhere in the chain stop at once, and come back on resume', async () => {
    const own = await token('helper', { grant_type: 'client_credentials', resource: api });
    expect(own.status, own.text).toBe(200);
    const person = await personTokens(server, ada);
    const first = await exchange('helper', person.access_token);
    expect(first.status, first.text).toBe(200);
    const viaHelper = first.body.access_token as string;
    const second = await exchange('relay', viaHelper);
    expect(second.status, second.text).toBe(200);
    const viaRelay = second.body.access_token as string;
    const fileBefore = readFileSync(join(server.configDir, 'clients/helper.yaml'), 'utf8');

    expect(await change('helper', 'suspend')).toMatchObject({ status: 'changed', from: 'active', record: { state: 'suspended' } });
    // The very next requests: nothing reloaded, the file and the loaded config still say active.
    expect((await token('helper', { grant_type: 'client_credentials', resource: api })).body).toMatchObject({ error: 'unauthorized_client', error_description: 'this agent is suspended' });
    expect((await exchange('helper', person.access_token)).body.error).toBe('unauthorized_client');
    expect((await exchange('relay', viaHelper)).body.error).toBe('invalid_grant');
    // Two hops down: courier exchanges relay's Passport, and helper is the chain's first actor.
    expect((await exchange('courier', viaRelay)).body).toMatchObject({ error: 'invalid_grant', error_description: 'an actor of the subject token\'s chain is no longer active' });
    expect(await introspect(own.body.access_token as string)).toBe(false);
    expect(await introspect(viaHelper)).toBe(false);
    expect(await introspect(viaRelay)).toBe(false);
    expect((await usage(viaRelay)).body.active).toBe(false);
    expect(readFileSync(join(server.configDir, 'clients/helper.yaml'), 'utf8')).toBe(fileBefore);
    expect(server.config.clients.get('helper')?.state).toBe('active');
    // A refusal is recorded with its reason, as any denial.
    const denials = (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'passport.denied' && r.clientId === 'helper');
    expect(denials.at(-1)?.details).toMatchObject({ reason: 'client_suspended' });

    expect(await change('helper', 'resume')).toMatchObject({ status: 'changed', from: 'suspended', record: { state: 'active' } });
    expect((await token('helper', { grant_type: 'client_credentials', resource: api })).status).toBe(200);
    expect((await exchange('relay', viaHelper)).status).toBe(200);
    expect((await exchange('courier', viaRelay)).status).toBe(200);
    expect(await introspect(viaRelay)).toBe(true);
    expect((await usage(viaRelay)).body.active).toBe(true);
  }, 30_000);

  it('CIBA: no new request, no collection, no refresh while suspended; the waiting request and the refresh token survive for the resume', async () => {
    const ask = () => postForm(server, '/bc-authorize', { scope: 'openid read-data', login_hint: ada.sub, resource: api }, agentAuth('helper'));
    const started = await ask();
    expect(started.status, started.text).toBe(200);
    const passport = (await personTokens(server, ada, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const approved = await fetch(`${server.url}/approvals/api/${(await server.deps.store.approvals.listOpen(server.deps.now()))[0]!.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${passport}`, 'content-type': 'application/json' },
      body: '{"decision":"approve"}',
    });
    expect(approved.status).toBe(200);
    const collect = () => token('helper', { grant_type: cibaGrant, auth_req_id: started.body.auth_req_id as string });

    await change('helper', 'suspend');
    expect((await ask()).body).toMatchObject({ error: 'unauthorized_client' });
    expect((await collect()).body).toMatchObject({ error: 'unauthorized_client' });
    expect((await postForm(server, '/device_authorization', { scope: 'openid read-data', resource: api }, agentAuth('helper'))).body).toMatchObject({ error: 'unauthorized_client' });

    await change('helper', 'resume');
    const collected = await collect();
    expect(collected.status, collected.text).toBe(200);
    const refresh = collected.body.refresh_token as string;
    expect(refresh).toEqual(expect.any(String));
    expect(await introspect(collected.body.access_token as string)).toBe(true);

    await change('helper', 'suspend');
    expect((await token('helper', { grant_type: 'refresh_token', refresh_token: refresh })).body).toMatchObject({ error: 'unauthorized_client' });
    expect(await introspect(collected.body.access_token as string)).toBe(false);
    await change('helper', 'resume');
    expect((await token('helper', { grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(200);
  }, 30_000);

  it('retiring is final: the service refuses to resume, and the server keeps refusing', async () => {
    const passport = (await token('relay', { grant_type: 'client_credentials', resource: api })).body.access_token as string;
    expect(await change('relay', 'retire')).toMatchObject({ status: 'changed', record: { state: 'retired', changedBy: 'operator:cli:test' } });
    expect(await change('relay', 'resume')).toEqual({ status: 'retired' });
    expect(await change('relay', 'suspend')).toEqual({ status: 'retired' });
    expect((await token('relay', { grant_type: 'client_credentials', resource: api })).body).toMatchObject({ error: 'unauthorized_client', error_description: 'this agent is retired' });
    expect(await introspect(passport)).toBe(false);
    const receipts = (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event.startsWith('agent.') && r.clientId === 'relay');
    expect(receipts).toMatchObject([{ event: 'agent.retired', details: { by: 'operator:cli:test', from: 'active', to: 'retired', from_source: 'config' } }]);
  });

  it('clients that are not agents have no lifecycle, and unknown ids are named as such', async () => {
    expect(await change('web-app', 'suspend')).toEqual({ status: 'not_agent', kind: 'client' });
    expect(await change('nobody', 'suspend')).toEqual({ status: 'unknown' });
    expect((await other.agentStates.list()).map((r) => r.clientId)).toEqual(['helper', 'relay']);
  });
});
