// Seed 003's delegation chain, alice → orchestrator → worker, across two real Consulates, run by
// the example's own code (examples/id-jag-chain) with the example's own config files (on ephemeral
// ports): alice signs in at A through its stand-in Okta (the test's browser is `drive`); the
// orchestrator gets an ID-JAG from A for B (openid-client), redeems it at B (JWT bearer); the
// worker exchanges the orchestrator's Passport at B (the SDK) for a narrower one and calls the
// tasks API through the SDK's guard. Then `consulate explain` (the compiled CLI) on the worker's
// Passport at B walks the receipts back to A's ID-JAG, and at A from the ID-JAG to alice's sign-in.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIdJagChain, type ChainResult } from '../../examples/id-jag-chain/chain.ts';
import { configFiles, exampleSecrets } from '../../examples/id-jag-chain/config.ts';
import { startTasksApi, tasksResource, type TasksApi } from '../../examples/id-jag-chain/tasks-api.ts';
import { drive } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { runConsulate } from './support/cli.ts';
import { fixtureEnv, startConsulate, type TestConsulate } from './support/consulate.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

const root = resolve(import.meta.dirname, '../..');
const alice = 'alice@example.com';

/** Free loopback ports, all held open at once so that they differ, then released. */
async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  await Promise.all(probes.map((probe) => new Promise<void>((done) => probe.listen(0, '127.0.0.1', done))));
  const ports = probes.map((probe) => (probe.address() as AddressInfo).port);
  await Promise.all(probes.map((probe) => new Promise<void>((done) => probe.close(() => done()))));
  return ports;
}

/** The example's config files, on these origins; the test fixture's consulate.yaml stays (no fixed port, high rate limits). */
const overlay = (which: 'a' | 'b', origins: Parameters<typeof configFiles>[1]) => Object.fromEntries(Object.entries(configFiles(which, origins)).filter(([name]) => name !== 'consulate.yaml'));

type Explained = {
  explanation: { event: string; summary: string; decided?: { step: string; rule?: string }; lines: string[] };
  receipt: { id: string; client_id?: string; token_jti?: string };
  passport?: { verified: boolean; matches_receipt: boolean };
  chain: { earlier: { receipt: string; event: string; summary: string; decided?: { step: string; rule?: string }; lines: string[] }[]; elsewhere?: { issuer: string; trusted_as?: string; kind?: string; receipt?: string }; missing?: string };
};

describe('the ID-JAG chain of seed 003: alice → orchestrator → worker, across two Consulates', () => {
  let a: TestConsulate;
  let b: TestConsulate;
  let okta: Upstream;
  let tasks: TasksApi;
  let result: ChainResult;

  beforeAll(async () => {
    const [aPort, bPort, appPort] = (await freePorts(3)) as [number, number, number];
    const origin = (port: number) => `http://127.0.0.1:${port}`;
    okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate-a', client_secret: exampleSecrets.okta, redirect_uris: [`${origin(aPort)}/callback/okta`] }] });
    const origins = { a: origin(aPort), okta: okta.url, app: origin(appPort), b: origin(bPort) };
    a = await startConsulate({ port: aPort, issuer: origins.a, files: overlay('a', origins) });
    b = await startConsulate({ port: bPort, issuer: origins.b, files: overlay('b', origins) });
    tasks = await startTasksApi({ issuer: b.issuer });

    const jar = cookieJar();
    result = await runIdJagChain({
      aIssuer: a.issuer,
      bIssuer: b.issuer,
      app: { clientId: 'chain-app', clientSecret: exampleSecrets.app, redirectUri: `${origins.app}/callback` },
      orchestratorAtA: { clientId: 'orchestrator', clientSecret: exampleSecrets.orchestratorAtA },
      orchestratorAtB: { clientId: 'orchestrator', clientSecret: exampleSecrets.orchestratorAtB },
      worker: { clientId: 'worker', clientSecret: exampleSecrets.worker },
      resource: tasksResource,
      tasksUrl: tasks.url,
      // alice's browser: signs in at the stand-in Okta, consents, and lands on the app's callback.
      signIn: async (url) => {
        const outcome = await drive(a, okta, jar, url, { username: alice });
        expect(outcome.location).toMatch(new RegExp(`^${origins.app}/callback\\?`));
        await (await fetch(outcome.location as string)).body?.cancel();
      },
      log: () => {},
    });
  });
  afterAll(async () => {
    await tasks?.close();
    await b?.stop();
    await a?.stop();
    await okta?.close();
  });

  const verifyAt = async (server: TestConsulate, token: string, options: { audience: string; typ: string }) =>
    (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, ...options })).payload;

  it('A issues the orchestrator an ID-JAG for B in alice\'s name, naming its receipt at A', async () => {
    const person = await verifyAt(a, result.person.token, { audience: a.issuer, typ: 'at+jwt' });
    expect(person).toMatchObject({ client_id: 'chain-app', email: alice });
    const idJag = await verifyAt(a, result.idJag.token, { audience: b.issuer, typ: 'oauth-id-jag+jwt' });
    expect(result.idJag.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:id-jag');
    expect(idJag).toMatchObject({ sub: person.sub, client_id: 'orchestrator', resource: tasksResource, scope: 'tasks:read tasks:write', act: { sub: 'orchestrator' }, email: alice });
    const receipt = await a.deps.store.audit.find(idJag.receipt as string);
    expect(receipt).toMatchObject({ event: 'id_jag.issued', clientId: 'orchestrator', subject: person.sub, tokenJti: idJag.jti });
  });

  it('the worker\'s Passport at B: sub alice at B, act worker over orchestrator, narrower scope, for the tasks API', async () => {
    const orchestrator = await verifyAt(b, result.orchestrator.token, { audience: tasksResource, typ: 'at+jwt' });
    const worker = await verifyAt(b, result.worker.token, { audience: tasksResource, typ: 'at+jwt' });
    const personAtA = result.person.claims.sub as string;
    // alice at B: B's own person, linked to A's account of her (never A's subject id as is).
    expect(worker.sub).toBe(orchestrator.sub);
    expect(worker.sub).not.toBe(personAtA);
    expect(await b.deps.store.subjects.accountsOf(worker.sub!)).toEqual([expect.objectContaining({ origIss: a.issuer, origSub: personAtA, upstreamId: 'issuer:a' })]);
    expect(orchestrator).toMatchObject({ act: { sub: 'orchestrator' }, azp: 'orchestrator', scope: 'tasks:read tasks:write', orig_iss: a.issuer, orig_sub: personAtA });
    // RFC 8693 §4.1: the outermost act is who acts now, nesting who acted before it.
    expect(worker.act).toEqual({ sub: 'worker', act: { sub: 'orchestrator' } });
    expect(worker).toMatchObject({ azp: 'worker', client_id: 'worker', scope: 'tasks:read', did: orchestrator.did, orig_iss: a.issuer, orig_sub: personAtA });
    expect(worker.exp).toBeLessThanOrEqual(orchestrator.exp!);
  });

  it('the guard accepts the worker\'s Passport for reading; writing and a wider exchange are refused', async () => {
    expect(result.tasks.status).toBe(200);
    expect(result.tasks.body).toMatchObject({ owner: result.worker.claims.sub, asked_by: ['worker', 'orchestrator'] });
    expect(tasks.calls.filter((call) => call.route === 'GET /tasks')).toEqual([{ route: 'GET /tasks', sub: result.worker.claims.sub, actors: ['worker', 'orchestrator'], scope: 'tasks:read' }]);
    expect(result.refused.write.status).toBe(403);
    expect(result.refused.write.wwwAuthenticate).toMatch(/error="insufficient_scope"/);
    expect(tasks.calls.some((call) => call.route === 'POST /tasks')).toBe(false);
    expect(result.refused.widerScope).toBe('invalid_scope');
    // The refused exchange issued nothing: one exchange receipt at B, the worker's.
    const exchanged = (await b.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'passport.exchanged');
    expect(exchanged.map((r) => r.tokenJti)).toEqual([result.worker.claims.jti]);
  });

  const run = (args: string[], env: NodeJS.ProcessEnv) => runConsulate(args, env);

  const explain = (server: TestConsulate, what: string, json: boolean) =>
    run(['explain', what, ...(json ? ['--json'] : [])], { ...fixtureEnv(), CONSULATE_CONFIG_DIR: server.configDir, CONSULATE_DATA_DIR: server.dataDir, CONSULATE_ISSUER: server.issuer });

  it('the example\'s committed config directories pass consulate check as they are', async () => {
    for (const which of ['a', 'b']) {
      const checked = await run(['check', '--config', resolve(root, 'examples/id-jag-chain/config', which)], {});
      expect(checked.code, checked.stderr).toBe(0);
      expect(checked.stdout).toMatch(/^config OK: /);
    }
  });

  it('explain at B: the worker\'s exchange, from the orchestrator\'s Passport, from an ID-JAG of A with its receipt there', async () => {
    const words = await explain(b, result.worker.token, false);
    expect(words.code, words.stderr).toBe(0);
    const answer = await explain(b, result.worker.token, true);
    expect(answer.code, answer.stderr).toBe(0);
    const json = JSON.parse(answer.stdout) as Explained;
    expect(json.passport).toMatchObject({ verified: true, matches_receipt: true });
    expect(json.receipt).toMatchObject({ id: result.worker.claims.receipt, client_id: 'worker', token_jti: result.worker.claims.jti });
    expect(json.explanation.event).toBe('passport.exchanged');
    expect(json.explanation.lines).toContain('delegation policy: allowed; actor chain worker → orchestrator (current actor first)');
    expect(json.explanation.lines).toContain(`subject from: passport (token jti ${result.orchestrator.claims.jti}, its receipt ${result.orchestrator.claims.receipt})`);

    // One step back at B: the orchestrator's JWT bearer, from A's ID-JAG.
    const idJagReceipt = result.idJag.claims.receipt as string;
    expect(json.chain.earlier).toHaveLength(1);
    const [redeemed] = json.chain.earlier;
    expect(redeemed).toMatchObject({ receipt: result.orchestrator.claims.receipt, event: 'passport.issued' });
    expect(redeemed?.summary).toContain('Passport issued to orchestrator for');
    expect(redeemed?.lines).toEqual(expect.arrayContaining(['assertion: id-jag from trusted issuer a', `assertion issued by ${a.issuer}, its receipt there ${idJagReceipt}`]));
    // …and there it leaves for A.
    expect(json.chain.elsewhere).toEqual({ issuer: a.issuer, trusted_as: 'a', kind: 'id-jag', receipt: idJagReceipt });
    expect(json.chain.missing).toBeUndefined();
    // The words say the same, in order: this exchange, then the orchestrator's, then A.
    const order = [`receipt ${result.worker.claims.receipt}`, `receipt ${result.orchestrator.claims.receipt}`, `an ID-JAG issued by ${a.issuer} (trusted issuer a), its receipt there: ${idJagReceipt}`].map((text) => words.stdout.indexOf(text));
    expect(order.every((at) => at >= 0), words.stdout).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  });

  it('explain at A, of the ID-JAG\'s receipt: its issuance to the orchestrator, from the Passport of alice\'s sign-in at the stand-in Okta', async () => {
    const receipt = result.idJag.claims.receipt as string;
    const answer = await explain(a, receipt, true);
    expect(answer.code, answer.stderr).toBe(0);
    const json = JSON.parse(answer.stdout) as Explained;
    expect(json.receipt).toMatchObject({ id: receipt, client_id: 'orchestrator', token_jti: result.idJag.claims.jti });
    expect(json.explanation.event).toBe('id_jag.issued');
    expect(json.explanation.summary).toBe(`ID-JAG issued to orchestrator for ${alice} (sub ${result.person.claims.sub}) at ${b.issuer} (token exchange)`);
    expect(json.explanation.lines).toEqual(expect.arrayContaining(['client there: orchestrator', 'delegation policy: allowed; actor chain orchestrator (current actor first)']));

    // Before it: alice's Passport from the app's sign-in, and the upstream login behind it.
    expect(json.chain.earlier).toHaveLength(1);
    const [signIn] = json.chain.earlier;
    expect(signIn).toMatchObject({ receipt: result.person.claims.receipt, event: 'passport.issued', decided: { step: 'grant.code', rule: 'granted at /authorize' } });
    expect(signIn?.summary).toBe(`Passport issued to chain-app for ${alice} (sub ${result.person.claims.sub}) at ${a.issuer} (authorization code)`);
    expect(signIn?.lines.find((line) => line.startsWith('identity: '))).toMatch(new RegExp(`^identity: rule set \\S+ of upstream okta \\(orig_iss ${okta.issuer.replace(/[/.]/g, '\\$&')}\\): `));
    // The chain starts here: nothing before the sign-in, and nothing at another issuer.
    expect(json.chain.elsewhere).toBeUndefined();
    const words = await explain(a, receipt, false);
    expect(words.stdout).toContain(`← Passport issued to chain-app for ${alice}`);
    // The sign-in itself was recorded at A too (the upstream login, with its mapping).
    const logins = (await a.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'login.upstream' && r.subject === result.person.claims.sub);
    expect(logins).toHaveLength(1);
    expect(logins[0]?.details).toMatchObject({ upstream: 'okta', orig_iss: okta.issuer });
  });
});
