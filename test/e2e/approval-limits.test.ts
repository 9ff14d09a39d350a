// Pending approvals are capped per (client, person) and per person: a client flooding
// /bc-authorize cannot bury a real request in someone's inbox nor tire them with notifications.
// One more than the cap is 429 slow_down with Retry-After and opens nothing; other people and,
// up to the per-person cap, other clients are not affected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, api } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const secret = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
const clientYaml = (id: string) =>
  [`client_id: ${id}`, 'token_endpoint_auth_method: client_secret_basic', `secret_hash: "${hashSecret(secret(id))}"`, `grant_types: [${cibaGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]', ''].join('\n');
const mainYaml = ['listen: { host: 127.0.0.1, port: 0 }', 'approvals:', '  max_pending_per_client_and_person: 2', '  max_pending_per_person: 3', ''].join('\n');

describe('caps on pending approvals', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': mainYaml, 'clients/flood-a.yaml': clientYaml('flood-a'), 'clients/flood-b.yaml': clientYaml('flood-b') } });
    await addPerson(server, 'alice', { email: 'alice@example.test', email_verified: true, name: 'Alice' });
    await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: true, name: 'Bob' });
  });
  afterAll(async () => server?.stop());

  const ask = (clientId: string, login_hint: string) => postForm(server, '/bc-authorize', { scope: 'openid', login_hint, binding_message: 'pay 5' }, { authorization: basicAuth(clientId, secret(clientId)) });

  it('one client gets its cap for one person, then 429 slow_down; another person is not affected', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await ask('flood-a', 'alice@example.test')).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const refused = await ask('flood-a', 'alice@example.test');
    expect(refused.body).toMatchObject({ error: 'slow_down' });
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await ask('flood-a', 'bob@example.test')).status).toBe(200);
  });

  it('other clients share the per-person cap', async () => {
    expect((await ask('flood-b', 'alice@example.test')).status).toBe(200);
    expect((await ask('flood-b', 'alice@example.test')).status).toBe(429);
    const open = await server.deps.store.approvals.listOpen(server.deps.now());
    // alice: two from flood-a and one from flood-b; bob: one from flood-a. Nothing more was opened.
    expect(open.filter((r) => r.clientId === 'flood-a')).toHaveLength(3);
    expect(open.filter((r) => r.clientId === 'flood-b')).toHaveLength(1);
  });
});
