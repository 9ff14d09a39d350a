// The SSF transmitter end to end, push delivery (RFC 8935): receivers manage their streams with a
// Passport for the SSF resource (scope ssf), and a receiver on loopback verifies every SET with jose
// against Consulate's JWKS before it answers 202. Real flows make the events: a person signs in at
// the Okta stand-in and out again, agents exchange the person's Passport, a delegation is revoked
// through the service the account page and CLI use, a Passport is revoked at /revoke, an agent is
// suspended through a second connection to the database (as the CLI does, from another process).
import { join } from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeAgentState } from '../../src/agents/lifecycle.ts';
import { createReceipts } from '../../src/audit/receipts.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import { revokeDelegation } from '../../src/delegation/revoke.ts';
import { systemClock } from '../../src/deps.ts';
import type { Store } from '../../src/store/ports.ts';
import { openSqliteStore } from '../../src/store/sqlite/open.ts';
import { drive, startWithOkta } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';
import { call, eventTypes, receiverToken, ssfFiles, startPushReceiver, type PushReceiver, type ReceivedSet } from './support/ssf.ts';

const agents = ['helper', 'runner', 'spare', 'shopper'];
// startWithOkta's env holds only the upstream's secret: the agents' secret hashes are written literally.
// The shopper's delegations may be used once (a budget).
const agentFiles = Object.fromEntries(
  agents.map((id) => [
    `clients/${id}.yaml`,
    agentYaml(id, 'act_for: { anyone: true }\nsubject_token_clients: [web-app, helper]\nmax_chain: 3', `  ${api}:\n    scopes: [read-data]${id === 'shopper' ? '\n    budget: { uses: 1 }' : ''}`).replace(/secret_hash: .*/, `secret_hash: ${hashSecret(agentSecret(id))}`),
  ]),
);
const push = 'urn:ietf:rfc:8935';
/** What the receiver's endpoint demands; the stream sends it with every push. */
const pushAuthorization = 'Bearer receiver-a-push-credential-0123456789';
const poll = 'urn:ietf:rfc:8936';

describe('SSF transmitter: stream management and push delivery', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let other: Store;
  let receiver: PushReceiver;
  let tokenA: string;
  let tokenB: string;
  let ada: Person;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { ...ssfFiles(['receiver-a', 'receiver-b']), ...agentFiles } }));
    other = openSqliteStore(join(server.dataDir, 'consulate.db'));
    tokenA = await receiverToken(server, 'receiver-a');
    tokenB = await receiverToken(server, 'receiver-b');
    receiver = await startPushReceiver(server, 'receiver-a', pushAuthorization);
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true });
    const created = await call(server, 'POST', '/ssf/streams', tokenA, { delivery: { method: push, endpoint_url: receiver.url, authorization_header: pushAuthorization }, description: 'events of receiver a' });
    expect(created.status, created.text).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await other?.close();
    await stop?.();
  });

  /** The receipt a SET names in `txn`, from the chain. */
  const receiptOf = async (set: ReceivedSet) => (await server.deps.store.audit.list({ limit: 10_000 })).find((r) => r.id === set.payload.txn);
  /** Asks for a verification SET with `state` and waits for it. */
  const verifiedWith = async (state: string) => {
    const [mine] = JSON.parse((await call(server, 'GET', '/ssf/streams', tokenA)).text) as { stream_id: string }[];
    expect((await call(server, 'POST', '/ssf/verify', tokenA, { stream_id: mine!.stream_id, state })).status).toBe(204);
    await receiver.waitFor(() => receiver.ofType(eventTypes.verification).some((s) => s.payload.events[eventTypes.verification]?.state === state));
  };
  const exchange = async (id: string, subjectToken: string) => {
    const response = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, agentAuth(id));
    expect(response.status, response.text).toBe(200);
    const did = (JSON.parse(Buffer.from((response.body.access_token as string).split('.')[1] as string, 'base64url').toString()) as { did: string }).did;
    return { token: response.body.access_token as string, did };
  };

  it('publishes its metadata at /.well-known/ssf-configuration', async () => {
    const response = await fetch(`${server.url}/.well-known/ssf-configuration`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      spec_version: '1_0',
      issuer: server.issuer,
      jwks_uri: `${server.issuer}/jwks`,
      delivery_methods_supported: [push, poll],
      configuration_endpoint: `${server.issuer}/ssf/streams`,
      status_endpoint: `${server.issuer}/ssf/status`,
      verification_endpoint: `${server.issuer}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
      default_subjects: 'ALL',
    });
  });

  it('refuses callers without a Passport (401), with one for another resource (401), and without the ssf scope (403)', async () => {
    const none = await call(server, 'GET', '/ssf/streams', undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const demo = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    const wrongAudience = await call(server, 'GET', '/ssf/streams', demo.body.access_token as string);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body.error).toBe('invalid_token');
    const auditOnly = await call(server, 'GET', '/ssf/streams', await receiverToken(server, 'receiver-a', 'audit-read'));
    expect(auditOnly.status).toBe(403);
    expect(auditOnly.body.error).toBe('insufficient_scope');
    expect(auditOnly.headers.get('www-authenticate')).toContain('scope="ssf"');
  });

  it('creates, reads, updates, replaces and deletes a stream; events_delivered is what was asked and is supported', async () => {
    const created = await call(server, 'POST', '/ssf/streams', tokenA, { events_requested: [eventTypes.delegationRevoked, 'urn:example:unknown'], description: 'poll stream' });
    expect(created.status, created.text).toBe(201);
    const id = created.body.stream_id as string;
    expect(created.body).toMatchObject({
      iss: server.issuer,
      aud: 'receiver-a',
      delivery: { method: poll, endpoint_url: `${server.issuer}/ssf/poll/${id}` },
      events_requested: [eventTypes.delegationRevoked, 'urn:example:unknown'],
      events_delivered: [eventTypes.delegationRevoked],
      description: 'poll stream',
    });
    expect(created.body.events_supported).toContain(eventTypes.sessionRevoked);
    expect(created.headers.get('cache-control')).toBe('no-store');

    expect((await call(server, 'GET', `/ssf/streams?stream_id=${id}`, tokenA)).body).toEqual(created.body);
    const all = await call(server, 'GET', '/ssf/streams', tokenA);
    expect((JSON.parse(all.text) as { stream_id: string }[]).map((s) => s.stream_id)).toContain(id);
    expect(JSON.parse((await call(server, 'GET', '/ssf/streams', tokenB)).text)).toEqual([]);

    const patched = await call(server, 'PATCH', '/ssf/streams', tokenA, { stream_id: id, description: 'renamed' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ description: 'renamed', events_delivered: [eventTypes.delegationRevoked] });
    // PUT: what is not sent is gone; with no events_requested, every supported event is delivered.
    const replaced = await call(server, 'PUT', '/ssf/streams', tokenA, { stream_id: id, delivery: { method: poll } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.description).toBeUndefined();
    expect(replaced.body.events_delivered).toEqual(replaced.body.events_supported);

    expect((await call(server, 'GET', `/ssf/status?stream_id=${id}`, tokenA)).body).toEqual({ stream_id: id, status: 'enabled' });
    const paused = await call(server, 'POST', '/ssf/status', tokenA, { stream_id: id, status: 'paused', reason: 'maintenance' });
    expect(paused.body).toEqual({ stream_id: id, status: 'paused', reason: 'maintenance' });

    const deleted = await call(server, 'DELETE', `/ssf/streams?stream_id=${id}`, tokenA);
    expect(deleted.status).toBe(204);
    expect((await call(server, 'GET', `/ssf/streams?stream_id=${id}`, tokenA)).status).toBe(404);
  });

  it('another receiver\'s stream is 404 for every operation, and stays as it was', async () => {
    const [mine] = JSON.parse((await call(server, 'GET', '/ssf/streams', tokenA)).text) as { stream_id: string; description: string }[];
    const id = mine!.stream_id;
    expect((await call(server, 'GET', `/ssf/streams?stream_id=${id}`, tokenB)).status).toBe(404);
    expect((await call(server, 'PATCH', '/ssf/streams', tokenB, { stream_id: id, description: 'hijacked' })).status).toBe(404);
    expect((await call(server, 'PUT', '/ssf/streams', tokenB, { stream_id: id })).status).toBe(404);
    expect((await call(server, 'GET', `/ssf/status?stream_id=${id}`, tokenB)).status).toBe(404);
    expect((await call(server, 'POST', '/ssf/status', tokenB, { stream_id: id, status: 'disabled' })).status).toBe(404);
    expect((await call(server, 'POST', '/ssf/verify', tokenB, { stream_id: id })).status).toBe(404);
    expect((await call(server, 'DELETE', `/ssf/streams?stream_id=${id}`, tokenB)).status).toBe(404);
    expect((await call(server, 'POST', `/ssf/poll/${id}`, tokenB, { returnImmediately: true })).status).toBe(404);
    const still = await call(server, 'GET', `/ssf/streams?stream_id=${id}`, tokenA);
    expect(still.body).toMatchObject({ description: 'events of receiver a' });
    expect((await call(server, 'GET', `/ssf/status?stream_id=${id}`, tokenA)).body.status).toBe('enabled');
  });

  it('answers malformed and invalid requests with 400 and a JSON error, and creates nothing', async () => {
    const before = (await server.deps.store.ssf.listStreams()).length;
    const cases: [unknown, string][] = [
      ['{not json', 'not JSON'],
      [[], 'an array'],
      [{ events_requested: 'all' }, 'events_requested not an array'],
      [{ events_requested: [] }, 'events_requested empty'],
      [{ surprise: true }, 'an unknown member'],
      [{ stream_id: 'mine' }, 'a stream_id of its own'],
      [{ iss: 'https://elsewhere.example' }, 'another iss'],
      [{ delivery: { method: push, endpoint_url: 'http://receiver.example/events' } }, 'plain http to a remote host'],
      [{ delivery: { method: push, endpoint_url: 'https://receiver.example/events#frag' } }, 'a fragment'],
      [{ delivery: { method: push } }, 'push without endpoint_url'],
      [{ delivery: { method: 'urn:example:carrier-pigeon' } }, 'an unknown method'],
      [{ delivery: { method: poll, endpoint_url: 'https://receiver.example/mine' } }, 'a poll URL of its own'],
    ];
    for (const [body, what] of cases) {
      const response = await call(server, 'POST', '/ssf/streams', tokenA, body);
      expect(response.status, what).toBe(400);
      expect(response.body.error, what).toBe('invalid_request');
      expect(response.text, what).not.toMatch(/at \S+\.ts|Error:/);
    }
    const wrongType = await fetch(`${server.url}/ssf/streams`, { method: 'POST', headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(400);
    expect((await call(server, 'POST', '/ssf/status', tokenA, { stream_id: 'x', status: 'asleep' })).status).toBe(400);
    expect((await call(server, 'GET', '/ssf/status', tokenA)).status).toBe(400);
    expect((await server.deps.store.ssf.listStreams()).length).toBe(before);
  });

  it('revoking a delegation sends exactly one delegation-revoked SET, naming the did, the agent and the person', async () => {
    const person = await personTokens(server, ada);
    const { did } = await exchange('helper', person.access_token);
    const outcome = await revokeDelegation(server.deps.store, server.deps.receipts, did, 'subject', { sub: ada.sub }, server.deps.now());
    expect(outcome.status).toBe('revoked');
    await receiver.waitFor(() => receiver.ofType(eventTypes.delegationRevoked).some((s) => s.payload.events[eventTypes.delegationRevoked]?.did === did));
    await verifiedWith(`after-${did}`);
    const sets = receiver.ofType(eventTypes.delegationRevoked).filter((s) => s.payload.events[eventTypes.delegationRevoked]?.did === did);
    expect(sets).toHaveLength(1);
    const set = sets[0]!;
    expect(set.header.typ).toBe('secevent+jwt');
    expect(set.payload).toMatchObject({ iss: server.issuer, aud: 'receiver-a' });
    expect(set.payload.sub).toBeUndefined();
    expect(set.payload.exp).toBeUndefined();
    expect(set.payload.events[eventTypes.delegationRevoked]).toMatchObject({ did, client_id: 'helper', sub: ada.sub, initiating_entity: 'user' });
    expect(set.payload.sub_id).toEqual({
      format: 'complex',
      user: { format: 'iss_sub', iss: server.issuer, sub: ada.sub },
      application: { format: 'opaque', id: 'helper' },
      delegation: { format: 'opaque', id: did },
    });
    expect((await receiptOf(set))?.event).toBe('delegation.revoked');
  });

  it('revoking a Passport two agents exchanged sends one delegation-revoked per delegation (two), not one per Passport', async () => {
    const person = await personTokens(server, ada);
    const first = await exchange('helper', person.access_token);
    const second = await exchange('runner', person.access_token);
    // A further Passport under the first delegation (runner exchanges helper's): still one event for it.
    expect((await exchange('runner', first.token)).did).toBe(first.did);
    const revoked = await postForm(server, '/revoke', { token: person.access_token }, { authorization: basicAuth('web-app', secrets['web-app']) });
    expect(revoked.status).toBe(200);
    const jti = (JSON.parse(Buffer.from(person.access_token.split('.')[1] as string, 'base64url').toString()) as { jti: string }).jti;
    await receiver.waitFor(() => receiver.ofType(eventTypes.credentialChange).some((s) => s.payload.sub_id?.jti === jti));
    const change = receiver.ofType(eventTypes.credentialChange).find((s) => s.payload.sub_id?.jti === jti)!;
    expect(change.payload.events[eventTypes.credentialChange]).toMatchObject({ credential_type: 'passport', change_type: 'revoke' });
    // A marker after it: a stream delivers in order, so everything this revocation sent is in before it.
    await verifiedWith(`after-${jti}`);
    const fromThis = receiver.ofType(eventTypes.delegationRevoked).filter((s) => s.payload.txn === change.payload.txn);
    const dids = fromThis.map((s) => s.payload.events[eventTypes.delegationRevoked]?.did);
    expect(dids.sort()).toEqual([first.did, second.did].sort());
    expect((await receiptOf(change))?.event).toBe('passport.revoked');
  });

  it('using up a delegation\'s budget sends budget-spent, once: for the use that spent it', async () => {
    const { token, did } = await exchange('shopper', (await personTokens(server, ada)).access_token);
    const report = await postForm(server, '/delegations/usage', { token, uses: '1' }, { authorization: basicAuth('demo-api', secrets['demo-api']) });
    expect(report.status, report.text).toBe(200);
    // Spent: a further report is refused and sends nothing.
    expect((await postForm(server, '/delegations/usage', { token, uses: '1' }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).status).toBe(403);
    await receiver.waitFor(() => receiver.ofType(eventTypes.budgetSpent).some((s) => s.payload.events[eventTypes.budgetSpent]?.did === did));
    await verifiedWith(`after-budget-${did}`);
    const sets = receiver.ofType(eventTypes.budgetSpent).filter((s) => s.payload.events[eventTypes.budgetSpent]?.did === did);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.payload.events[eventTypes.budgetSpent]).toMatchObject({ did, client_id: 'shopper', sub: ada.sub, initiating_entity: 'system' });
    expect((await receiptOf(sets[0]!))?.event).toBe('budget.consumed');
  });

  it('suspending an agent from another process (the CLI\'s way) sends agent-suspended', async () => {
    const result = await changeAgentState({ config: server.config, store: other, receipts: createReceipts(other.audit), now: systemClock }, 'runner', 'suspend', 'operator:cli:test');
    expect(result.status).toBe('changed');
    await receiver.waitFor(() => receiver.ofType(eventTypes.agentSuspended).some((s) => s.payload.events[eventTypes.agentSuspended]?.client_id === 'runner'));
    const set = receiver.ofType(eventTypes.agentSuspended).find((s) => s.payload.events[eventTypes.agentSuspended]?.client_id === 'runner')!;
    expect(set.payload.sub_id).toEqual({ format: 'complex', application: { format: 'opaque', id: 'runner' } });
    expect(set.payload.events[eventTypes.agentSuspended]).toMatchObject({ initiating_entity: 'admin' });
  });

  it('a receiver that is down gets the SET after it comes back (retried with backoff)', async () => {
    receiver.setDown(true);
    const delivered = receiver.sets.length;
    await changeAgentState({ config: server.config, store: server.deps.store, receipts: server.deps.receipts, now: server.deps.now }, 'spare', 'suspend', 'operator:cli:test');
    const until = Date.now() + 10_000;
    while (receiver.refusedWhileDown < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(receiver.refusedWhileDown).toBeGreaterThanOrEqual(2);
    expect(receiver.sets.length).toBe(delivered);
    receiver.setDown(false);
    await receiver.waitFor(() => receiver.ofType(eventTypes.agentSuspended).some((s) => s.payload.events[eventTypes.agentSuspended]?.client_id === 'spare'));
    expect(receiver.ofType(eventTypes.agentSuspended).filter((s) => s.payload.events[eventTypes.agentSuspended]?.client_id === 'spare')).toHaveLength(1);
    expect(receiver.rejected).toEqual([]);
  });

  it('a verification request is answered 204 and a verification SET with the state follows', async () => {
    const [mine] = JSON.parse((await call(server, 'GET', '/ssf/streams', tokenA)).text) as { stream_id: string }[];
    const response = await call(server, 'POST', '/ssf/verify', tokenA, { stream_id: mine!.stream_id, state: 'ping-1' });
    expect(response.status).toBe(204);
    await receiver.waitFor(() => receiver.ofType(eventTypes.verification).some((s) => s.payload.events[eventTypes.verification]?.state === 'ping-1'));
    const set = receiver.ofType(eventTypes.verification).find((s) => s.payload.events[eventTypes.verification]?.state === 'ping-1')!;
    expect(set.payload.sub_id).toEqual({ format: 'opaque', id: mine!.stream_id });
  });

  it('signing out sends session-revoked for the person (and the session)', async () => {
    const config = await discover(server, 'web-app', client.ClientSecretBasic(secrets['web-app']));
    const jar = cookieJar();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: 'https://app.example.test/callback', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', login_hint: 'alice@example.com' });
    const outcome = await drive(server, okta, jar, url, { username: 'alice@example.com' });
    const tokens = await client.authorizationCodeGrant(config, new URL(outcome.location!), { pkceCodeVerifier: verifier, idTokenExpected: true });
    const claims = tokens.claims()!;
    const logout = await jar.fetch(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }));
    expect(logout.status).toBe(200);
    await receiver.waitFor(() => receiver.ofType(eventTypes.sessionRevoked).some((s) => (s.payload.sub_id?.user as { sub?: string } | undefined)?.sub === claims.sub));
    const set = receiver.ofType(eventTypes.sessionRevoked).find((s) => (s.payload.sub_id?.user as { sub?: string } | undefined)?.sub === claims.sub)!;
    expect(set.payload.sub_id).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: server.issuer, sub: claims.sub }, session: { format: 'opaque', id: claims.sid } });
    expect(set.payload.events[eventTypes.sessionRevoked]).toMatchObject({ initiating_entity: 'user' });
    expect((await receiptOf(set))?.event).toBe('session.ended');
  });

  it('every SET pushed verified against the JWKS, for this receiver\'s audience; no SET and no push credential in the logs', () => {
    expect(receiver.rejected).toEqual([]);
    for (const set of receiver.sets) expect(set.payload.aud).toBe('receiver-a');
    expect(new Set(receiver.sets.map((s) => s.payload.jti)).size).toBe(receiver.sets.length);
    const logs = server.rawLogs();
    expect(logs).not.toContain('receiver-a-push-credential');
    for (const set of receiver.sets) expect(logs).not.toContain(set.payload.jti as string);
  });
});
