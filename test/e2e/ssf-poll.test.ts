// Poll delivery (RFC 8936) end to end: the Passport guard of src/sdk/ as a receiver, creating its
// own poll stream at a started Consulate and long-polling it, refuses still-valid Passports once a
// delegation is revoked or an agent suspended, takes them again on resume, and forgets cached
// introspection answers when a person's session (refresh token family) is revoked. The poll protocol
// itself (ack, setErrs, maxEvents, moreAvailable) is driven by hand, each SET verified with jose.
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeAgentState } from '../../src/agents/lifecycle.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import { revokeDelegation } from '../../src/delegation/revoke.ts';
import { createPassportGuard, type GuardResult, type PassportGuard, type ReceivedSignal } from '../../src/sdk/index.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import { call, eventTypes, receiverToken, ssfFiles } from './support/ssf.ts';

const agents = ['helper', 'courier'];
const lifecycle = (server: TestConsulate) => ({ config: server.config, store: server.deps.store, receipts: server.deps.receipts, now: server.deps.now });

describe('SSF poll delivery, and the guard as a receiver', () => {
  let server: TestConsulate;
  let guard: PassportGuard;
  let ada: Person;
  const signals: ReceivedSignal[] = [];
  const errors: Error[] = [];

  beforeAll(async () => {
    server = await startConsulate({
      files: { ...ssfFiles(['resource-receiver', 'receiver-b']), ...Object.fromEntries(agents.map((id) => [`clients/${id}.yaml`, agentYaml(id, 'act_for: { anyone: true }\nsubject_token_clients: [web-app]\nmax_chain: 3', `  ${api}:\n    scopes: [read-data]`)])) },
      env: Object.fromEntries(agents.map((id) => [envName(id), hashSecret(agentSecret(id))])),
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true });
    let cached: { token: string; until: number } | undefined;
    guard = createPassportGuard({
      issuer: server.issuer,
      resource: api,
      // Introspection too, with a long cache: only a signal can make the guard ask again early.
      introspection: { clientId: 'demo-api', clientSecret: secrets['demo-api'], always: true, cacheSeconds: 300 },
      ssf: {
        accessToken: async () => {
          if (!cached || cached.until <= Date.now()) cached = { token: await receiverToken(server, 'resource-receiver'), until: Date.now() + 60_000 };
          return cached.token;
        },
        retryMs: 100,
        onSignal: (signal) => signals.push(signal),
        onError: (error) => errors.push(error),
      },
    });
    await guard.signals!.start();
  }, 60_000);
  afterAll(async () => {
    await guard?.signals?.stop();
    await server?.stop();
  });

  const verify = (token: string): Promise<GuardResult> => guard.verify({ method: 'GET', url: 'https://api.demo.example/data', headers: { authorization: `Bearer ${token}` } });
  const waitForSignal = async (match: (signal: ReceivedSignal) => boolean) => {
    const until = Date.now() + 10_000;
    while (!signals.some(match)) {
      if (Date.now() > until) throw new Error(`no such signal; got ${JSON.stringify(signals.map((s) => s.types))}, errors ${errors.map((e) => e.message).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const exchange = async (id: string, subjectToken: string) => {
    const response = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: subjectToken, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, agentAuth(id));
    expect(response.status, response.text).toBe(200);
    return response.body.access_token as string;
  };

  it('the guard made a poll stream of its own, asking for the events it acts on', async () => {
    const streams = await server.deps.store.ssf.listStreams('resource-receiver');
    expect(streams.map((s) => s.id)).toEqual([guard.signals!.streamId]);
    expect(streams[0]).toMatchObject({ delivery: { method: 'poll' }, audience: 'resource-receiver', status: 'enabled' });
    expect(streams[0]!.eventsDelivered).toEqual(expect.arrayContaining([eventTypes.delegationRevoked, eventTypes.agentSuspended, eventTypes.sessionRevoked]));
  });

  it('refuses a still-valid Passport of a revoked delegation once the signal arrived, and acknowledges the SET', async () => {
    const person = await personTokens(server, ada);
    const passport = await exchange('helper', person.access_token);
    expect((await verify(passport)).ok).toBe(true);
    const { did, exp } = decodeJwt(passport) as { did: string; exp: number };
    await revokeDelegation(server.deps.store, server.deps.receipts, did, 'subject', { sub: ada.sub }, server.deps.now());
    await waitForSignal((s) => s.types.includes(eventTypes.delegationRevoked) && s.events[eventTypes.delegationRevoked]?.did === did);
    const result = await verify(passport);
    expect(exp).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect(result).toMatchObject({ ok: false, status: 401, error: 'invalid_token', reason: 'revoked' });
    // The next poll carried the ack: nothing of it is left in the outbox.
    const until = Date.now() + 10_000;
    while ((await server.deps.store.ssf.pending(guard.signals!.streamId!, 100)).length > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await server.deps.store.ssf.pending(guard.signals!.streamId!, 100)).toEqual([]);
  });

  it('refuses Passports of a suspended agent (as client and in the act chain), and takes them again on resume', async () => {
    const own = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, agentAuth('courier'));
    expect(own.status, own.text).toBe(200);
    const ownPassport = own.body.access_token as string;
    const delegated = await exchange('courier', (await personTokens(server, ada)).access_token);
    expect((await verify(ownPassport)).ok).toBe(true);
    expect((await verify(delegated)).ok).toBe(true);
    await changeAgentState(lifecycle(server), 'courier', 'suspend', 'operator:cli:test');
    await waitForSignal((s) => s.types.includes(eventTypes.agentSuspended) && s.events[eventTypes.agentSuspended]?.client_id === 'courier');
    expect(await verify(ownPassport)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await verify(delegated)).toMatchObject({ ok: false, reason: 'revoked' });
    await changeAgentState(lifecycle(server), 'courier', 'resume', 'operator:cli:test');
    await waitForSignal((s) => s.types.includes(eventTypes.agentResumed) && s.events[eventTypes.agentResumed]?.client_id === 'courier');
    expect((await verify(ownPassport)).ok).toBe(true);
  });

  it('a revoked refresh token family makes the guard forget its cached introspection answers for that person', async () => {
    const person = await personTokens(server, ada);
    expect(person.refresh_token).toBeDefined();
    // Active, and remembered for 300 s.
    expect((await verify(person.access_token)).ok).toBe(true);
    const revoked = await postForm(server, '/revoke', { token: person.refresh_token! }, { authorization: basicAuth('web-app', secrets['web-app']) });
    expect(revoked.status).toBe(200);
    await waitForSignal((s) => s.types.includes(eventTypes.sessionRevoked) && (s.subId?.application as { id?: string } | undefined)?.id === 'web-app');
    // Asked again: Consulate says inactive (the family's Passports are revoked).
    expect(await verify(person.access_token)).toMatchObject({ ok: false, reason: 'inactive' });
  });

  it('poll by hand (RFC 8936): SETs verify against the JWKS; maxEvents and moreAvailable page them; ack removes; setErrs are recorded', async () => {
    const token = await receiverToken(server, 'receiver-b');
    const created = await call(server, 'POST', '/ssf/streams', token, { events_requested: [eventTypes.agentSuspended, eventTypes.agentResumed] });
    expect(created.status, created.text).toBe(201);
    const pollUrl = new URL((created.body.delivery as { endpoint_url: string }).endpoint_url).pathname;
    await changeAgentState(lifecycle(server), 'helper', 'suspend', 'operator:cli:test');
    await changeAgentState(lifecycle(server), 'helper', 'resume', 'operator:cli:test');
    // Both are in the outbox before the first poll (the feed runs in the background).
    const until = Date.now() + 10_000;
    while ((await server.deps.store.ssf.pending(created.body.stream_id as string, 10)).length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));

    // A long poll waits for the first SET; maxEvents 1 leaves the second for later.
    const first = await call(server, 'POST', pollUrl, token, { maxEvents: 1 });
    expect(first.status, first.text).toBe(200);
    expect(first.body.moreAvailable).toBe(true);
    const [[firstJti, firstSet]] = Object.entries(first.body.sets as Record<string, string>) as [[string, string]];
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const { payload } = await jwtVerify(firstSet, jwks, { issuer: server.issuer, audience: 'receiver-b', typ: 'secevent+jwt' });
    expect(payload.jti).toBe(firstJti);
    expect(Object.keys(payload.events as object)).toEqual([eventTypes.agentSuspended]);

    // Not acknowledged yet: it comes again, with the next one.
    const again = await call(server, 'POST', pollUrl, token, { returnImmediately: true });
    const both = Object.keys(again.body.sets as object);
    expect(both).toHaveLength(2);
    expect(both[0]).toBe(firstJti);
    expect(again.body.moreAvailable).toBe(false);

    // ack the first, report an error for the second: nothing is left, and the error is a receipt.
    const done = await call(server, 'POST', pollUrl, token, { ack: [firstJti], setErrs: { [both[1]!]: { err: 'invalid_key', description: 'kid unknown here' } }, returnImmediately: true });
    expect(done.body).toEqual({ sets: {}, moreAvailable: false });
    const receipts = await server.deps.store.audit.list({ limit: 10_000 });
    const failure = receipts.findLast((r) => r.event === 'ssf.delivery_failed');
    expect(failure).toMatchObject({ clientId: 'receiver-b', details: { method: 'poll', outcome: 'receiver_error', errors: { [both[1]!]: 'invalid_key' } } });
    expect(JSON.stringify(failure)).not.toContain('kid unknown here');

    // A paused stream holds its SETs, and hands them out once enabled again.
    const id = created.body.stream_id as string;
    expect((await call(server, 'POST', '/ssf/status', token, { stream_id: id, status: 'paused' })).status).toBe(200);
    await changeAgentState(lifecycle(server), 'helper', 'suspend', 'operator:cli:test');
    const heldUntil = Date.now() + 10_000;
    while ((await server.deps.store.ssf.pending(id, 10)).length < 1 && Date.now() < heldUntil) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await call(server, 'POST', pollUrl, token, { returnImmediately: true })).body).toEqual({ sets: {}, moreAvailable: false });
    expect((await call(server, 'POST', '/ssf/status', token, { stream_id: id, status: 'enabled' })).status).toBe(200);
    const held = await call(server, 'POST', pollUrl, token, { returnImmediately: true });
    expect(Object.values(held.body.sets as Record<string, string>).map((set) => Object.keys(decodeJwt(set).events as object))).toEqual([[eventTypes.agentSuspended]]);

    // Malformed polls are 400 with an RFC 8935 error object; no Passport is 401.
    const malformed = await call(server, 'POST', pollUrl, token, { maxEvents: 'ten' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.err).toBe('invalid_request');
    expect((await call(server, 'POST', pollUrl, undefined, {})).status).toBe(401);
  });
});
