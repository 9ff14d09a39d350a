// The approval inbox a page at a time: a CIBA client floods one person with 230 requests through
// /bc-authorize; the JSON API (the person's own Passport) lists them newest first, 50 a page by
// default, with the total and an opaque cursor; walking the cursor yields each request exactly
// once, and one arriving mid-walk is on the first page. Cursors that are not ours are 400
// invalid_request. The inbox page says how many wait and links to the older ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { hashId, randomId } from '../../src/oauth/ids.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, api, personTokens, type Person } from './support/delegation.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
const secret = 'flood-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const clientYaml = ['client_id: flood', 'name: Flood Bot', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: "${hashSecret(secret)}"`, `grant_types: [${cibaGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]', ''].join('\n');
// The caps on pending requests have their own test (approval-limits); here one person gets many.
const mainYaml = ['listen: { host: 127.0.0.1, port: 0 }', 'approvals:', '  max_pending_per_client_and_person: 1000', '  max_pending_per_person: 1000', ''].join('\n');

type Listed = { id: string; binding_message?: string };
type Answer = { status: number; body: { approvals?: Listed[]; total?: number; next_cursor?: string | null; error?: string } };

describe('approval inbox paging', () => {
  let server: TestConsulate;
  let alice: Person;
  let bob: Person;
  let token: string;
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': mainYaml, 'clients/flood.yaml': clientYaml } });
    alice = await addPerson(server, 'alice', { email: 'alice@example.test', email_verified: true, name: 'Alice' });
    bob = await addPerson(server, 'bob', { email: 'bob@example.test', email_verified: true, name: 'Bob' });
    for (let i = 1; i <= 229; i++) await ask(`Invoice ${i}`);
    await delay(5); // the newest is newer by its id's milliseconds too
    await ask('Invoice newest');
    token = await passport(alice);
  }, 120_000);
  afterAll(async () => server?.stop());

  async function ask(message: string, hint = 'alice@example.test') {
    const response = await postForm(server, '/bc-authorize', { scope: 'openid', login_hint: hint, binding_message: message }, { authorization: basicAuth('flood', secret) });
    expect(response.status).toBe(200);
  }
  const passport = async (person: Person) => (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
  async function list(query: Record<string, string> = {}, bearer = token): Promise<Answer> {
    const response = await fetch(`${server.url}/approvals/api?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  it('the first page: the newest request first, 50 of them, total 230, and a cursor', async () => {
    const first = await list();
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(230);
    expect(first.body.approvals).toHaveLength(50);
    expect(first.body.approvals?.[0]?.binding_message).toBe('Invoice newest');
    expect(first.body.next_cursor).toEqual(expect.any(String));
    // A limit above the maximum is the maximum.
    const big = await list({ limit: '1000' });
    expect(big.body.approvals).toHaveLength(200);
  });

  it('walking the cursor yields all 230 exactly once, newest first; one arriving mid-walk is on the first page', async () => {
    const seen: Listed[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await list({ limit: '40', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...(page.body.approvals ?? []));
      cursor = page.body.next_cursor;
      pages += 1;
      if (pages === 2) {
        await delay(5);
        await ask('Invoice late');
      }
      expect(page.body.total).toBe(pages <= 2 ? 230 : 231);
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toHaveLength(230);
    expect(new Set(seen.map((a) => a.id)).size).toBe(230);
    // Newest first: by creation time, then by id (time-ordered to the millisecond).
    const open = await server.deps.store.approvals.listOpen(server.deps.now(), 1000);
    const original = open.filter((r) => r.request.bindingMessage !== 'Invoice late').sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    expect(seen.map((a) => a.id)).toEqual(original.map((r) => r.id));
    expect(seen[0]?.binding_message).toBe('Invoice newest');
    expect(new Set(seen.map((a) => a.binding_message)).size).toBe(230);
    const again = await list({ limit: '2' });
    expect(again.body.total).toBe(231);
    expect(again.body.approvals?.map((a) => a.binding_message)).toEqual(['Invoice late', 'Invoice newest']);
  });

  it('a malformed, altered or someone else\'s cursor, or a bad limit: 400 invalid_request', async () => {
    const cursor = (await list({ limit: '10' })).body.next_cursor as string;
    const [payload, tag] = cursor.split('.') as [string, string];
    const shifted = Buffer.from(JSON.stringify([0, 'z'])).toString('base64url');
    for (const bad of ['abc', `${shifted}.${tag}`, `${payload}.${'A'.repeat(43)}`, `${payload}.${tag}x`]) {
      const answer = await list({ cursor: bad });
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    }
    // Alice's cursor is hers: Bob cannot page with it.
    const bobToken = await passport(bob);
    expect((await list({ cursor }, bobToken)).status).toBe(400);
    for (const limit of ['0', '-1', 'ten', '1.5']) expect((await list({ limit })).status, limit).toBe(400);
    expect((await list({ cursor, limit: '10' })).status).toBe(200);
  });

  it('the inbox page shows the newest first, how many wait in all, and a link to older ones', async () => {
    const jar = cookieJar();
    const id = randomId();
    const now = server.deps.now();
    await server.deps.store.logins.saveSession({ idHash: hashId(id), sid: `sid-${randomId()}`, sub: alice.sub, upstreamId: 'okta', claims: alice.claims, authTime: now, createdAt: now, expiresAt: now + 3600 });
    jar.cookies.set('consulate_session', id);
    const first = await jar.fetch(`${server.url}/approvals`);
    const html = await first.text();
    expect(first.status).toBe(200);
    expect(html).toContain('231 requests are waiting for your decision; the newest 50 below.');
    expect(html.indexOf('Invoice late')).toBeLessThan(html.indexOf('Invoice newest'));
    expect(html.match(/<section aria-label="Request of/g)).toHaveLength(50);
    const next = /<a href="(\/approvals\?cursor=[^"]+)">Show older requests<\/a>/.exec(html)?.[1];
    expect(next).toBeDefined();
    const second = await jar.fetch(`${server.url}${next!.replace(/&amp;/g, '&')}`);
    const older = await second.text();
    expect(second.status).toBe(200);
    expect(older).toContain('231 requests are waiting for your decision; older ones below.');
    expect(older).not.toContain('Invoice newest');
    expect(older).not.toContain('Invoice late');
    expect(older.match(/<section aria-label="Request of/g)).toHaveLength(50);
    expect(older).toContain('Back to the newest');
    const forged = await jar.fetch(`${server.url}/approvals?cursor=abc`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).not.toContain('Invoice');
  });
});
