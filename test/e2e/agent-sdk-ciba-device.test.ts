// The agent SDK's ciba() and deviceCode() against a started Consulate (with a stand-in Okta for the
// device page's sign-in): the SDK polls until the person decides. CIBA is decided through the inbox
// JSON API with the person's own Passport; the device flow by a person who signs in at /device,
// enters the user code the SDK announced and approves or denies. Also: denial as access_denied, a
// short requested_expiry as expired_token, and an AbortSignal that stops polling at once.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { ConsulateOAuthError, createAgentClient, type AgentClientOptions, type Pending } from '../../src/sdk/index.ts';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import type { TestConsulate } from './support/consulate.ts';
import { addPerson, agentSecret, agentYaml, api, envName, personTokens, type Person } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const root = resolve(import.meta.dirname, '../..');

// An agent that may ask anyone by CIBA and by the device flow; startWithOkta passes only the Okta
// secret as environment, so the secret's hash goes into the file itself.
const helperYaml = agentYaml('helper', 'act_for: { anyone: true }')
  .replace(/grant_types: \[[^\]]*\]/, `grant_types: [${cibaGrant}, ${deviceGrant}]`)
  .replace(`\${env:${envName('helper')}}`, hashSecret(agentSecret('helper')));

type UserCode = Parameters<Parameters<ReturnType<typeof createAgentClient>['deviceCode']>[0]['onUserCode']>[0];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('agent SDK: ciba() and deviceCode() against Consulate', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let ada: Person;

  beforeAll(async () => {
    const main = `${readFileSync(resolve(root, 'test/fixtures/config/consulate.yaml'), 'utf8')}ciba:\n  interval_seconds: 1\ndevice:\n  interval_seconds: 1\n`;
    ({ server, okta, stop } = await startWithOkta({ files: { 'consulate.yaml': main, 'clients/helper.yaml': helperYaml } }));
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace' });
  }, 60_000);
  afterAll(async () => stop?.());

  const sdk = (extra: Partial<AgentClientOptions> = {}) => createAgentClient({ issuer: server.issuer, clientId: 'helper', clientSecret: agentSecret('helper'), allowInsecureLoopback: true, ...extra });
  const verify = async (token: string) => (await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt' })).payload;
  const openOfHelper = async () => (await server.deps.store.approvals.listOpen(server.deps.now())).filter((r) => r.clientId === 'helper');

  /** The person, in their inbox (JSON API, their own Passport): finds the helper's request and decides. */
  const decideInInbox = async (person: Person, decision: 'approve' | 'deny') => {
    const own = (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const inbox = await fetch(`${server.url}/approvals/api`, { headers: { authorization: `Bearer ${own}` } });
    expect(inbox.status).toBe(200);
    const listed = ((await inbox.json()) as { approvals: Record<string, unknown>[] }).approvals.filter((a) => a.client === 'helper');
    expect(listed).toHaveLength(1);
    const decided = await fetch(`${server.url}/approvals/api/${String(listed[0]!.id)}`, { method: 'POST', headers: { authorization: `Bearer ${own}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision }) });
    expect(decided.status).toBe(200);
    return listed[0]!;
  };

  describe('ciba()', () => {
    it('polls until the person approves in the inbox; the Passport names the person in sub and the agent in act', async () => {
      const pendings: Pending[] = [];
      let listed: Promise<Record<string, unknown>> | undefined;
      const tokens = await sdk().ciba({
        loginHint: 'ada@example.test',
        bindingMessage: 'Order 4711',
        scope: 'openid read-data',
        resource: api,
        onPending: (pending) => {
          pendings.push(pending);
          // She answers a little later, while the SDK is polling.
          listed = new Promise((r) => setTimeout(r, 1500)).then(() => decideInInbox(ada, 'approve'));
        },
      });
      expect(pendings).toEqual([{ auth_req_id: expect.any(String), interval: 1, expires_in: expect.any(Number) }]);
      expect(await listed).toMatchObject({ kind: 'ciba', binding_message: 'Order 4711' });
      // It polled while she had not answered yet.
      expect(server.logs.some((line) => line.error === 'authorization_pending')).toBe(true);
      expect(tokens.token_type).toBe('bearer');
      const claims = await verify(tokens.access_token);
      expect(claims).toMatchObject({ sub: ada.sub, client_id: 'helper', act: { sub: 'helper' }, aud: api, approval: expect.any(String) });
      expect(String(claims.scope).split(' ').sort()).toEqual(['openid', 'read-data']);
      expect(tokens.id_token).toEqual(expect.any(String));
      expect(await openOfHelper()).toEqual([]);
    });

    it('a denial in the inbox is ConsulateOAuthError access_denied', async () => {
      let decided: Promise<unknown> | undefined;
      const error = await rejection(sdk().ciba({ loginHint: ada.sub, scope: 'openid read-data', resource: api, onPending: () => (decided = decideInInbox(ada, 'deny')) }));
      await decided;
      expect(error).toBeInstanceOf(ConsulateOAuthError);
      expect(error).toMatchObject({ code: 'access_denied', status: 400 });
    });

    it('a request nobody answers ends at its requested_expiry with expired_token', async () => {
      let pending: Pending | undefined;
      const started = Date.now();
      const error = await rejection(sdk().ciba({ loginHint: ada.sub, scope: 'openid', requestedExpiry: 2, onPending: (p) => (pending = p) }));
      const took = Date.now() - started;
      expect(error).toBeInstanceOf(ConsulateOAuthError);
      expect((error as ConsulateOAuthError).code).toBe('expired_token');
      expect(pending?.expires_in).toBe(2);
      expect(took).toBeGreaterThanOrEqual(1500);
      expect(took).toBeLessThan(4000);
      // Consulate agrees: the request is over.
      const late = await postForm(server, '/token', { grant_type: cibaGrant, auth_req_id: pending!.auth_req_id }, { authorization: basicAuth('helper', agentSecret('helper')) });
      expect(late.body.error).toBe('expired_token');
    });

    it('an AbortSignal stops polling at once with an AbortError; the request stays open for the person', async () => {
      const controller = new AbortController();
      let abortedAt = 0;
      const error = await rejection(
        sdk().ciba({
          loginHint: ada.sub,
          scope: 'openid',
          signal: controller.signal,
          onPending: () =>
            setTimeout(() => {
              abortedAt = Date.now();
              controller.abort();
            }, 300),
        }),
      );
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      expect(Date.now() - abortedAt).toBeLessThan(500);
      const open = await openOfHelper();
      expect(open).toMatchObject([{ kind: 'ciba', sub: ada.sub, status: 'pending' }]);
      await decideInInbox(ada, 'deny');
    });
  });

  describe('deviceCode()', () => {
    /** A person signed in at Consulate (through the stand-in Okta), enters the user code and decides. */
    const enterAndDecide = (username: string, code: UserCode, decision: 'approve' | 'deny') => {
      const deciding = decide(username, code, decision);
      // Awaited later by the test; if the SDK call fails first, that failure is what the test reports,
      // not an unhandled rejection of this one.
      deciding.catch(() => undefined);
      return deciding;
    };
    const decide = async (username: string, code: UserCode, decision: 'approve' | 'deny') => {
      const jar: Jar = cookieJar();
      // The verification URI the SDK announced, as a person would open it.
      const signedIn = await drive(server, okta, jar, code.verification_uri, { username });
      expect(signedIn.page?.status).toBe(200);
      const post = async (path: string, fields: Record<string, string>) => {
        const response = await jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
        return { status: response.status, html: await response.text() };
      };
      const asked = await post('/device', { ...hiddenFields(signedIn.page!.html), user_code: code.user_code });
      expect(asked.status).toBe(200);
      expect(asked.html).toContain('Allow Agent helper on your device?');
      return post('/device/decide', { ...hiddenFields(asked.html), decision });
    };

    it('announces the user code and verification URI, and resolves once the code is entered and approved', async () => {
      const codes: UserCode[] = [];
      let done: Promise<{ status: number; html: string }> | undefined;
      const tokens = await sdk().deviceCode({
        scope: 'openid read-data',
        resource: api,
        onUserCode: (code) => {
          codes.push(code);
          done = enterAndDecide('bob@example.com', code, 'approve');
        },
      });
      expect(codes).toEqual([
        {
          user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
          verification_uri: `${server.issuer.replace(/\/$/, '')}/device`,
          verification_uri_complete: `${server.issuer.replace(/\/$/, '')}/device?user_code=${codes[0]!.user_code}`,
          expires_in: expect.any(Number),
        },
      ]);
      expect((await done)?.html).toContain('Device connected');
      const claims = await verify(tokens.access_token);
      expect(claims).toMatchObject({ client_id: 'helper', act: { sub: 'helper' }, aud: api, approval: expect.any(String) });
      // The person is whoever signed in and entered the code: Bob.
      expect(await server.deps.store.approvals.find(claims.approval as string)).toMatchObject({ kind: 'device', clientId: 'helper', sub: claims.sub, status: 'issued' });
      expect(await server.deps.store.subjects.claimsOf(claims.sub!)).toMatchObject({ email: 'bob@example.com', name: 'Bob Brown' });
      expect(String(claims.scope).split(' ').sort()).toEqual(['openid', 'read-data']);
    }, 30_000);

    it('a denial on the device page is ConsulateOAuthError access_denied', async () => {
      let done: Promise<{ status: number; html: string }> | undefined;
      const error = await rejection(sdk().deviceCode({ scope: 'read-data', resource: api, onUserCode: (code) => (done = enterAndDecide('alice@example.com', code, 'deny')) }));
      expect((await done)?.html).toContain('Request denied');
      expect(error).toBeInstanceOf(ConsulateOAuthError);
      expect(error).toMatchObject({ code: 'access_denied', status: 400 });
    }, 30_000);
  });
});
