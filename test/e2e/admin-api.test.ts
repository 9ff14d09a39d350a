// The admin API (/admin/v1) end to end: an operator client gets its Passport by client credentials
// with openid-client and drives every resource; each operation refuses a Passport without its scope
// (403 insufficient_scope naming it), no Passport (401 Bearer) and a Passport for another resource
// (401 invalid_token); a suspension over the API stops the agent's next token request and a resume
// lets it in again; changes are receipts naming the operator; bad input is a 400 problem.
import { Validator } from '@seriousme/openapi-schema-validator';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { adminScopes } from '../../src/config/admin-schema.ts';
import { adminApi } from '../../src/http/admin/routes.ts';
import { hashId, randomId } from '../../src/oauth/ids.ts';
import { createPat } from '../../src/pats/pats.ts';
import { answerOf, basicAuth, discover, postForm, type Answer } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens } from './support/delegation.ts';

const adminResource = 'https://admin.test.example';
const operatorSecret = 'operator-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';

describe('admin API', () => {
  let server: TestConsulate;
  let operator: client.Configuration;
  let full: string;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    server = await startConsulate({
      files: {
        'clients/helper.yaml': agentYaml('helper', 'act_for: { anyone: true }\nsubject_token_clients: [web-app]'),
        'clients/device-cli.yaml': ['client_id: device-cli', 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]'].join('\n'),
      },
      env: { [envName('helper')]: hashSecret(agentSecret('helper')) },
    });
    operator = await discover(server, 'operator', client.ClientSecretBasic(operatorSecret));
    full = await passport(adminScopes.join(' '));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** A Passport of the operator client for the admin resource with `scope` (openid-client, client credentials). */
  async function passport(scope: string): Promise<string> {
    const cached = tokens.get(scope);
    if (cached) return cached;
    const answer = await client.clientCredentialsGrant(operator, { resource: adminResource, scope });
    tokens.set(scope, answer.access_token);
    return answer.access_token;
  }
  const call = async (method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> =>
    answerOf(
      await fetch(new URL(`/admin/v1${path}`, server.url), {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      }),
    );
  const agentToken = () => postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, agentAuth('helper'));
  const receiptsOf = async (event: string) => (await server.deps.store.audit.list({ limit: 10_000 })).filter((r) => r.event === event);

  it('serves an OpenAPI 3.1 document generated from the route schemas, with the Passport scheme and its scopes', async () => {
    const answer = await answerOf(await fetch(new URL('/admin/v1/openapi.json', server.url)));
    expect(answer.status).toBe(200);
    const doc = answer.body as { openapi: string; paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } }> } };
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Agent', 'Delegation', 'Approval', 'Receipt', 'Explanation', 'SigningKey', 'ConfigStatus', 'Problem']));
    const scheme = doc.components.securitySchemes.passport!;
    expect(scheme.type).toBe('oauth2');
    expect(scheme.flows.clientCredentials.tokenUrl).toBe(`${server.issuer.replace(/\/$/, '')}/token`);
    expect(Object.keys(scheme.flows.clientCredentials.scopes).sort()).toEqual([...adminScopes].sort());
    expect(doc.paths['/admin/v1/agents/{id}/suspend']?.post?.security).toEqual([{ passport: ['agents:write'] }]);
    // The document validates against the OpenAPI 3.1 schema.
    const validator = new Validator();
    const { valid, errors } = await validator.validate(answer.body as Record<string, unknown>);
    expect(errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the document and the routes agree: every /admin/v1 route is documented with its method, and nothing else answers', async () => {
    const doc = (await answerOf(await fetch(new URL('/admin/v1/openapi.json', server.url)))).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    // The admin API's own app: the server loads it on the first request under /admin (app.ts).
    const served = adminApi(server.deps)
      .routes.filter((r) => r.path.startsWith('/admin/v1/') && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    expect([...new Set(served)].sort()).toEqual([...documented, 'GET /admin/v1/openapi.json'].sort());
    // That each documented operation is served (a route-specific scope check answers, not 404/405) is the scope test below.
    const undocumented = await call('DELETE', '/agents', full);
    expect(undocumented.status).toBe(404);
    expect(undocumented.headers.get('content-type')).toBe('application/problem+json');
  });

  it('without a Passport: 401 with a Bearer challenge, as a problem document', async () => {
    const answer = await call('GET', '/agents', undefined);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('a Passport for another resource, or a garbled one: 401 invalid_token', async () => {
    const other = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, agentAuth('helper'));
    for (const token of [other.body.access_token as string, 'not.a.passport']) {
      const answer = await call('GET', '/agents', token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
  });

  it('every documented operation refuses a Passport lacking its scope with 403 insufficient_scope naming it', async () => {
    const doc = (await answerOf(await fetch(new URL('/admin/v1/openapi.json', server.url)))).body as { paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>> };
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const scope = operation.security?.[0]?.passport?.[0];
        expect(scope, `${method} ${path} declares its scope`).toBeDefined();
        const other = scope === 'config:read' ? 'keys:read' : 'config:read';
        const url = path.replace('/admin/v1', '').replace(/\{[^}]+\}/g, 'x');
        const answer = await call(method.toUpperCase(), url, await passport(other));
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.headers.get('www-authenticate')).toContain(`error="insufficient_scope"`);
        expect(answer.headers.get('www-authenticate')).toContain(`scope="${scope}"`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(13);
  });

  it('lists and gets agents with their states; suspend refuses the agent\'s next token request, resume lets it in; receipts name the operator', async () => {
    const list = await call('GET', '/agents', full);
    expect(list.status).toBe(200);
    expect(list.body.agents).toEqual([expect.objectContaining({ client_id: 'helper', state: 'active', source: 'config', owner: 'owner@example.test' })]);
    expect((await agentToken()).status).toBe(200);

    const suspended = await call('POST', '/agents/helper/suspend', full);
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ changed: true, agent: { state: 'suspended', source: 'runtime', changed_by: 'operator:operator' } });
    const refused = await agentToken();
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect((await call('GET', '/agents/helper', full)).body).toMatchObject({ state: 'suspended' });
    expect((await receiptsOf('agent.suspended')).at(-1)).toMatchObject({ clientId: 'helper', details: { by: 'operator:operator', to: 'suspended' } });

    expect((await call('POST', '/agents/helper/suspend', full)).body).toMatchObject({ changed: false });
    const resumed = await call('POST', '/agents/helper/resume', full);
    expect(resumed.body).toMatchObject({ changed: true, agent: { state: 'active' } });
    expect((await agentToken()).status).toBe(200);
    expect((await receiptsOf('agent.resumed')).at(-1)?.details).toMatchObject({ by: 'operator:operator' });

    expect((await call('GET', '/agents/web-app', full)).status).toBe(404);
    expect((await call('POST', '/agents/nobody/retire', full)).status).toBe(404);
  });

  it('lists delegations with filters and a cursor, and revokes one: its Passports stop introspecting, and the receipt names the operator', async () => {
    const ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true });
    const passports: string[] = [];
    for (let i = 0; i < 3; i++) {
      const person = await personTokens(server, ada);
      const exchanged = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: person.access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, agentAuth('helper'));
      expect(exchanged.status, exchanged.text).toBe(200);
      passports.push(exchanged.body.access_token as string);
    }
    const first = await call('GET', `/delegations?sub=${ada.sub}&agent=helper&limit=2`, full);
    expect(first.status).toBe(200);
    const page1 = first.body.delegations as { did: string; sub: string; agent: string }[];
    expect(page1).toHaveLength(2);
    expect(page1.every((d) => d.sub === ada.sub && d.agent === 'helper')).toBe(true);
    const second = await call('GET', `/delegations?sub=${ada.sub}&agent=helper&limit=2&cursor=${first.body.next_cursor as string}`, full);
    const page2 = second.body.delegations as { did: string }[];
    expect(page2).toHaveLength(1);
    expect(second.body.next_cursor).toBeUndefined();
    expect(new Set([...page1, ...page2].map((d) => d.did)).size).toBe(3);
    expect((await call('GET', '/delegations?sub=person-nobody', full)).body.delegations).toEqual([]);

    const did = page2[0]!.did;
    const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body.active;
    const under = passports.find((p) => JSON.parse(Buffer.from(p.split('.')[1]!, 'base64url').toString()).did === did)!;
    expect(await introspect(under)).toBe(true);
    const revoked = await call('POST', `/delegations/${did}/revoke`, full);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ did, revoked_by: 'operator' });
    expect(await introspect(under)).toBe(false);
    expect((await receiptsOf('delegation.revoked')).at(-1)?.details).toMatchObject({ did, by: 'operator', operator: 'operator:operator' });
    const again = await call('POST', `/delegations/${did}/revoke`, full);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect((await call('POST', '/delegations/unknown-did/revoke', full)).status).toBe(404);
  });

  it('lists pending approval requests and cancels one: the device\'s next poll is access_denied, and the receipt names the operator', async () => {
    const asked = await postForm(server, '/device_authorization', { client_id: 'device-cli', scope: 'read-data', resource: api });
    expect(asked.status, asked.text).toBe(200);
    const pending = await call('GET', '/approvals', full);
    expect(pending.status).toBe(200);
    const approval = (pending.body.approvals as { id: string; agent: string; kind: string; status: string }[]).find((a) => a.agent === 'device-cli');
    expect(approval).toMatchObject({ kind: 'device', status: 'pending' });
    const cancelled = await call('POST', `/approvals/${approval!.id}/cancel`, full);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: approval!.id, status: 'denied' });
    const poll = await postForm(server, '/token', { grant_type: deviceGrant, device_code: asked.body.device_code as string, client_id: 'device-cli' });
    expect(poll.body.error).toBe('access_denied');
    expect((await call('GET', '/approvals', full)).body.approvals).toEqual([]);
    expect((await receiptsOf('approval.cancelled')).at(-1)?.details).toMatchObject({ approval: approval!.id, by: 'operator:operator' });
    expect((await call('POST', `/approvals/${approval!.id}/cancel`, full)).status).toBe(409);
  });

  it('pages through receipts with a cursor, gets one and explains it; reading writes no receipt', async () => {
    const tail = await call('GET', '/receipts?tail=true&limit=3', full);
    expect(tail.status).toBe(200);
    const last = tail.body.receipts as { id: string; seq: number; event: string }[];
    expect(last).toHaveLength(3);
    const head = await server.deps.store.audit.head();
    expect(last.at(-1)!.seq).toBe(head!.seq);

    const page1 = await call('GET', '/receipts?limit=2', full);
    const page2 = await call('GET', `/receipts?limit=2&cursor=${page1.body.next_cursor as string}`, full);
    const seqs = [...(page1.body.receipts as { seq: number }[]), ...(page2.body.receipts as { seq: number }[])].map((r) => r.seq);
    expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3]);

    const issued = (await receiptsOf('passport.issued')).at(-1)!;
    const one = await call('GET', `/receipts/${issued.id}`, full);
    expect(one.body).toMatchObject({ id: issued.id, event: 'passport.issued', hash: issued.hash });
    const explained = await call('GET', `/receipts/${issued.id}/explain`, full);
    expect(explained.body).toMatchObject({ receipt: issued.id, outcome: 'issued' });
    expect(typeof explained.body.summary).toBe('string');
    expect((await server.deps.store.audit.head())!.seq).toBe(head!.seq);
    expect((await call('GET', '/receipts/0190a1b2-0000-7000-8000-000000000000', full)).status).toBe(404);
  });

  it('lists signing keys and rotates them: the next key is published, and the receipt names the operator', async () => {
    const before = await call('GET', '/keys', full);
    expect(before.status).toBe(200);
    expect(before.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ alg: 'ES256', state: 'current' })]));
    const rotated = await call('POST', '/keys/rotate', full, { activate_in_seconds: 3600, alg: 'ES256' });
    expect(rotated.status).toBe(200);
    const added = rotated.body.added as { kid: string; state: string }[];
    expect(added).toEqual([expect.objectContaining({ alg: 'ES256', state: 'next' })]);
    const jwks = (await answerOf(await fetch(new URL('/jwks', server.url)))).body.keys as { kid: string }[];
    expect(jwks.map((k) => k.kid)).toContain(added[0]!.kid);
    expect((await receiptsOf('keys.rotated')).at(-1)?.details).toMatchObject({ by: 'operator:operator', kids: [added[0]!.kid] });
    // No body: every algorithm in use, after the configured delay.
    const defaults = await call('POST', '/keys/rotate', full);
    expect(defaults.status).toBe(200);
    expect((defaults.body.added as { alg: string }[]).map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
  });

  it('tells the config status of the node: its files and the last reload', async () => {
    await server.reload('admin-test');
    const answer = await call('GET', '/config', full);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ stale: false, last_reload: { trigger: 'admin-test', outcome: 'applied' } });
    expect(answer.body.files).toEqual(expect.arrayContaining(['consulate.yaml', 'clients/operator.yaml', 'resources/admin.yaml']));
  });

  it('lists a person\'s sessions and ends one: its cookie stops signing in, and the receipt names the operator', async () => {
    const bea = await addPerson(server, 'bea', { email: 'bea@example.test', email_verified: true });
    const cookie = randomId();
    const now = server.deps.now();
    await server.deps.store.logins.saveSession({ idHash: hashId(cookie), sid: 'sid-bea', sub: bea.sub, upstreamId: 'okta', claims: bea.claims, authTime: now, createdAt: now, expiresAt: now + 3600 });
    const account = () => fetch(new URL('/account', server.url), { headers: { cookie: `consulate_session=${cookie}` }, redirect: 'manual' });
    expect((await account()).status).toBe(200);
    const listed = await call('GET', `/people/${bea.sub}/sessions`, full);
    expect(listed.body.sessions).toEqual([{ sid: 'sid-bea', upstream: 'okta', auth_time: now, created_at: now, expires_at: now + 3600 }]);
    expect(listed.text).not.toContain('bea@example.test');
    const ended = await call('POST', `/people/${bea.sub}/sessions/sid-bea/end`, full);
    expect(ended.status).toBe(200);
    expect((await account()).status).toBe(303);
    expect((await call('GET', `/people/${bea.sub}/sessions`, full)).body.sessions).toEqual([]);
    expect((await receiptsOf('session.ended')).at(-1)).toMatchObject({ subject: bea.sub, details: { via: 'admin', sid: 'sid-bea', by: 'operator:operator' } });
    expect((await call('POST', `/people/${bea.sub}/sessions/sid-bea/end`, full)).status).toBe(404);
  });

  it('lists a person\'s personal access tokens without the token, and revokes one: it no longer introspects, and the receipt names the operator', async () => {
    const cy = await addPerson(server, 'cy', { email: 'cy@example.test', email_verified: true });
    const created = await createPat(server.deps, cy.sub, { name: 'laptop', resource: api, scopes: ['read-data'], ttlDays: 7 });
    if (!created.ok) throw new Error(created.message);
    const listed = await call('GET', `/people/${cy.sub}/pats`, full);
    expect(listed.body.pats).toEqual([expect.objectContaining({ id: created.record.id, name: 'laptop', resource: api, scopes: ['read-data'] })]);
    expect(listed.text).not.toContain(created.token);
    const introspect = async () => (await postForm(server, '/introspect', { token: created.token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body.active;
    expect(await introspect()).toBe(true);
    expect((await call('POST', `/people/person-nobody/pats/${created.record.id}/revoke`, full)).status).toBe(404);
    const revoked = await call('POST', `/people/${cy.sub}/pats/${created.record.id}/revoke`, full);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(Number));
    expect(await introspect()).toBe(false);
    expect((await receiptsOf('pat.revoked')).at(-1)).toMatchObject({ subject: cy.sub, details: { pat: created.record.id, by: 'operator:operator' } });
    expect((await call('POST', `/people/${cy.sub}/pats/${created.record.id}/revoke`, full)).status).toBe(404);
  });

  it('bad input is a 400 problem with the issues, never a stack; a failed request changes nothing', async () => {
    const keysBefore = (await call('GET', '/keys', full)).body.keys as unknown[];
    for (const [method, path, body] of [
      ['GET', '/agents?limit=0', undefined],
      ['GET', '/agents?limit=abc', undefined],
      ['GET', '/receipts?cursor=not-a-cursor', undefined],
      ['GET', '/delegations?cursor=eyJza2lwIjotMX0', undefined],
      ['POST', '/keys/rotate', { alg: 'HS256' }],
      ['POST', '/keys/rotate', { activate_in_seconds: -1 }],
      ['POST', '/keys/rotate', { surprise: true }],
      ['POST', '/keys/rotate', '{not json'],
    ] as const) {
      const answer = await call(method, path, full, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status: 400, title: 'Bad Request' });
      expect(answer.text).not.toMatch(/at .*\.ts:\d+/);
    }
    const issues = (await call('GET', '/agents?limit=0', full)).body.errors as { path: string }[];
    expect(issues.map((i) => i.path)).toEqual(['limit']);
    expect((await call('GET', '/keys', full)).body.keys).toEqual(keysBefore);
    expect((await call('GET', '/nothing-here', full)).status).toBe(404);
  });
});
