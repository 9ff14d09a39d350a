// The account page's delegations, driven like a browser (cookie jar, the page's own forms): a person
// revokes an agent acting for them, an agent's owner revokes a delegation made to their agent, and
// the delegated Passports stop introspecting active. Forms without the CSRF token, and dids that
// are not the person's to revoke, are refused without telling whether the did exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { hashId } from '../../src/oauth/ids.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { drive, hiddenFields, startWithOkta } from './support/authorize.ts';
import { accessTokenType, addPerson, api, exchangeGrant, personTokens, type Person } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';

const secretOf = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;

const agentYaml = (id: string, name: string, owner: string) => `client_id: ${id}
kind: agent
name: ${name}
owner: ${owner}
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret(secretOf(id))}
grant_types: [${exchangeGrant}]
resources:
  ${api}:
    scopes: [read-data]
    budget: { uses: 3 }
delegation:
  act_for: { anyone: true }
  subject_token_clients: [web-app]
`;

type Jar = ReturnType<typeof cookieJar>;

describe('/account: delegations', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  const alice = { jar: cookieJar() } as { jar: Jar; person: Person };
  let carol: Person;
  let dave: Person;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({
      files: {
        // Owned by nobody signing in here.
        'clients/runner.yaml': agentYaml('runner', 'Runner', 'ops@example.test'),
        // Owned by Alice (the case of the e-mail does not matter).
        'clients/helper.yaml': agentYaml('helper', 'Helper', 'ALICE@Example.com'),
        // Owned by Bob's address, which his IdP says is not verified.
        'clients/bobs-bot.yaml': agentYaml('bobs-bot', 'Bob\'s Bot', 'bob@example.com'),
      },
    }));
    alice.person = await signIn(alice.jar, 'alice@example.com');
    carol = await addPerson(server, 'carol', { email: 'carol@example.test', email_verified: true, name: 'Carol Example' });
    dave = await addPerson(server, 'dave', { email: 'dave@example.test', email_verified: true, name: 'Dave Example' });
  }, 60_000);
  afterAll(async () => stop?.());

  /** Signs in through /account (login page, stand-in Okta) and returns the person of the session. */
  async function signIn(jar: Jar, username: string): Promise<Person> {
    const outcome = await drive(server, okta, jar, `${server.url}/account`, { username });
    expect(outcome.page?.status).toBe(200);
    expect(outcome.page?.html).toContain('Your account');
    const session = await server.deps.store.logins.findSession(hashId(jar.cookies.get('consulate_session')!), server.deps.now());
    return { sub: session!.sub, claims: session!.claims };
  }

  /** `person`'s web-app Passport exchanged by `agent`: the delegated Passport and its did. */
  async function delegate(person: Person, agent: string): Promise<{ token: string; did: string }> {
    const { access_token } = await personTokens(server, person);
    const response = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: access_token, subject_token_type: accessTokenType, resource: api, scope: 'read-data' }, { authorization: basicAuth(agent, secretOf(agent)) });
    expect(response.status, response.text).toBe(200);
    const token = response.body.access_token as string;
    const did = (await introspect(token)).did as string;
    expect(did).toBeTruthy();
    return { token, did };
  }

  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;
  const accountPage = async (jar: Jar) => (await jar.fetch(`${server.url}/account`)).text();
  const section = (html: string, heading: string) => {
    const start = html.indexOf(`<h2>${heading}</h2>`);
    if (start < 0) return undefined;
    const next = html.indexOf('<h2>', start + 1);
    return html.slice(start, next < 0 ? undefined : next);
  };
  const revokeForm = (jar: Jar, fields: Record<string, string>) =>
    jar.fetch(`${server.url}/account/delegations/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  /** The browser's CSRF token, as any of its pages carries it (the sign-in page always has a form). */
  const csrfOf = async (jar: Jar) => hiddenFields(await (await jar.fetch(`${server.url}/login`)).text()).csrf!;
  const revocations = async () => (await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'delegation.revoked');

  it('a person sees the agent acting for them and revokes it; its Passport stops working, theirs does not', async () => {
    const own = await personTokens(server, alice.person);
    const { token, did } = await delegate(alice.person, 'runner');
    const today = new Date(server.deps.now() * 1000).toISOString().slice(0, 10);

    const page = await accountPage(alice.jar);
    const mine = section(page, 'Agents acting for you')!;
    expect(mine).toContain(`<strong>Runner</strong> on Demo API since ${today}; 0 of 3 uses used`);
    expect(mine).toContain(`name="did" value="${did}"`);
    // Alice owns Helper, which acts for nobody yet.
    expect(section(page, 'Your agents&#39; delegations')).toContain('None.');

    const response = await revokeForm(alice.jar, { csrf: hiddenFields(page).csrf!, did });
    expect(response.status).toBe(200);
    const after = await response.text();
    expect(after).toContain('Delegation to Runner revoked');
    expect(section(after, 'Agents acting for you')).not.toContain(did);

    expect((await introspect(token)).active).toBe(false);
    expect((await introspect(own.access_token)).active).toBe(true);
    expect((await server.deps.store.delegations.find(did))?.revokedBy).toBe('subject');
    const records = (await revocations()).filter((r) => r.details.did === did);
    expect(records).toMatchObject([{ clientId: 'runner', subject: alice.person.sub, details: { by: 'subject', actor_sub: alice.person.sub } }]);
  });

  it('the owner of an agent sees whom it acts for and revokes that delegation', async () => {
    const { token, did } = await delegate(carol, 'helper');
    const { did: runnersDid } = await delegate(carol, 'runner');

    const page = await accountPage(alice.jar);
    const owned = section(page, 'Your agents&#39; delegations');
    expect(owned).toContain('<strong>Helper</strong> acts for Carol Example on Demo API');
    expect(owned).toContain(`name="did" value="${did}"`);
    // Not Alice's, not her agent's: not on her page.
    expect(page).not.toContain(runnersDid);

    const response = await revokeForm(alice.jar, { csrf: hiddenFields(page).csrf!, did });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Delegation to Helper revoked');
    expect((await introspect(token)).active).toBe(false);
    expect((await revocations()).filter((r) => r.details.did === did)).toMatchObject([{ clientId: 'helper', subject: carol.sub, details: { by: 'owner', actor_sub: alice.person.sub } }]);
  });

  it('someone else\'s did is refused exactly like one that does not exist, and nothing is revoked', async () => {
    const { token, did } = await delegate(dave, 'runner');
    // Alice has nothing left to revoke on her page; the token of any of her pages does.
    const csrf = await csrfOf(alice.jar);
    const before = (await revocations()).length;

    const forged = await revokeForm(alice.jar, { csrf, did });
    const unknown = await revokeForm(alice.jar, { csrf, did: 'f0000000-0000-7000-8000-000000000000' });
    expect(forged.status).toBe(404);
    expect(unknown.status).toBe(404);
    const [forgedText, unknownText] = [await forged.text(), await unknown.text()];
    const notice = (html: string) => /<p role="status">([^<]*)<\/p>/.exec(html)?.[1];
    expect(notice(forgedText)).toBe('There is no such delegation among yours (it may have expired).');
    expect(notice(unknownText)).toBe(notice(forgedText));
    expect(forgedText).not.toContain(did);

    expect((await introspect(token)).active).toBe(true);
    expect((await server.deps.store.delegations.find(did))?.revokedAt).toBeUndefined();
    expect((await revocations()).length).toBe(before);
  });

  it('a form without the CSRF token, or with another browser\'s, is refused', async () => {
    const { token, did } = await delegate(alice.person, 'runner');
    const other = cookieJar();
    await other.fetch(`${server.url}/login`);
    const othersCsrf = await csrfOf(other);
    expect(othersCsrf).toBeTruthy();
    expect(othersCsrf).not.toBe(await csrfOf(alice.jar));

    const forms: Record<string, string>[] = [{ did }, { did, csrf: othersCsrf }, { did, csrf: '' }];
    for (const fields of forms) {
      const response = await revokeForm(alice.jar, fields);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('This form has expired or was not sent by this browser.');
    }
    expect((await introspect(token)).active).toBe(true);
    expect((await server.deps.store.delegations.find(did))?.revokedAt).toBeUndefined();
  });

  it('a signed-out browser is sent to sign in, and an unverified e-mail makes nobody an owner', async () => {
    const { token, did } = await delegate(carol, 'bobs-bot');
    const signedOut = cookieJar();
    await signedOut.fetch(`${server.url}/login`);
    const response = await revokeForm(signedOut, { csrf: await csrfOf(signedOut), did });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toContain('/login');

    const bob = cookieJar();
    await signIn(bob, 'bob@example.com');
    const page = await accountPage(bob);
    expect(page).not.toContain('Your agents');
    expect(page).not.toContain(did);
    const refused = await revokeForm(bob, { csrf: await csrfOf(bob), did });
    expect(refused.status).toBe(404);
    expect((await introspect(token)).active).toBe(true);
  }, 30_000);
});
