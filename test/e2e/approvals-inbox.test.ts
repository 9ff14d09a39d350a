// Where people decide waiting requests: the inbox page in a real browser (Chromium, signed in at the
// stand-in Okta), then with a cookie jar for the approver rules — the person represented, their
// manager, two people of a group (never an excluded one, never the same one twice) — denials, CSRF,
// other people's and closed requests, and the audit trail. The JSON API with a person's Passport.
// The webhook: a loopback receiver checks the signature; a failing one never fails the request.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { openApproval, type OpenRequest } from '../../src/consent/approvals.ts';
import { hashId, randomId } from '../../src/oauth/ids.ts';
import type { ApproverRule } from '../../src/store/ports.ts';
import { hiddenFields, startWithOkta } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import type { TestConsulate } from './support/consulate.ts';
import { addPerson, personTokens, type Person } from './support/delegation.ts';

const bank = 'https://bank.example';
const hookSecret = 'webhook-secret-0123456789abcdefghij';

const bankYaml = `resource: ${bank}
name: Example Bank
scopes:
  payments: Make payments from your account
authorization_details_types:
  payment:
    description: pay
    schema:
      type: object
      required: [type, instructedAmount]
      properties:
        type: { const: payment }
        instructedAmount:
          type: object
          required: [amount, currency]
          properties:
            amount: { type: string }
            currency: { type: string }
        creditorName: { type: string }
`;

const helperYaml = `client_id: helper
name: Helper Bot
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret('helper-secret-0123456789abcdefghijklmnopqrstuvwxyz')}
grant_types: [client_credentials]
resources:
  ${bank}:
    scopes: [payments]
    authorization_details_types: [payment]
`;

type Jar = ReturnType<typeof cookieJar>;
type Received = { headers: Record<string, string | string[] | undefined>; body: string };

/** A loopback webhook receiver: `ok` answers 204, `fail` 500, `hang` never answers. */
async function startReceiver() {
  const received: Received[] = [];
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang' };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (state.mode === 'hang') return;
      res.writeHead(state.mode === 'ok' ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    state,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function until<T>(find: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('approvals inbox', () => {
  let server: TestConsulate;
  let stop: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let carol: Person, mgr: Person, dan: Person, erin: Person, frank: Person;

  beforeAll(async () => {
    receiver = await startReceiver();
    // These tests open many requests for the same people; the caps have their own test (approval-limits).
    const main = ['listen:', '  host: 127.0.0.1', '  port: 0', 'passports:', '  ttl_seconds: 300', 'keys:', '  reload_seconds: 0.05', 'log:', '  level: info', 'approvals:', '  max_pending_per_client_and_person: 50', '  webhook:', `    url: ${receiver.url}`, `    secret: ${hookSecret}`, '    timeout_ms: 500'];
    ({ server, stop } = await startWithOkta({ files: { 'consulate.yaml': main.join('\n'), 'resources/bank.yaml': bankYaml, 'clients/helper.yaml': helperYaml } }));
    const finance = (id: string) => addPerson(server, id, { email: `${id}@example.test`, email_verified: true, name: `${id[0]!.toUpperCase()}${id.slice(1)} Example`, groups: ['finance'] });
    carol = await addPerson(server, 'carol', { email: 'carol@example.test', email_verified: true, name: 'Carol Example', groups: ['finance'], manager: 'mgr@example.test' });
    mgr = await addPerson(server, 'mgr', { email: 'MGR@example.test', email_verified: true, name: 'Morgan Manager' });
    dan = await finance('dan');
    erin = await finance('erin');
    frank = await finance('frank');
  }, 60_000);
  afterAll(async () => {
    await stop?.();
    await receiver?.close();
  });

  const payment = { identityScopes: ['openid'], resource: bank, resourceScopes: ['payments'], authorizationDetails: [{ type: 'payment', instructedAmount: { amount: '100', currency: 'USD' }, creditorName: 'Acme Supplies' }] };
  const open = (sub: string, approvers: ApproverRule, extra: Partial<OpenRequest> = {}) =>
    openApproval(server.deps, { kind: 'ciba', clientId: 'helper', sub, request: { ...payment, bindingMessage: `Invoice ${randomId().slice(0, 6)}` }, approvers, expiresIn: 600, interval: 5, ...extra });

  /** A browser signed in as `person` (the session a login at Okta would have made). */
  async function signedIn(person: Person): Promise<Jar> {
    const jar = cookieJar();
    const id = randomId();
    const now = server.deps.now();
    await server.deps.store.logins.saveSession({ idHash: hashId(id), sid: `sid-${randomId()}`, sub: person.sub, upstreamId: 'okta', claims: person.claims, authTime: now, createdAt: now, expiresAt: now + 3600 });
    jar.cookies.set('consulate_session', id);
    return jar;
  }
  const inbox = async (jar: Jar) => {
    const response = await jar.fetch(`${server.url}/approvals`);
    expect(response.status).toBe(200);
    return response.text();
  };
  async function decide(jar: Jar, id: string, decision: string, csrf?: string | null) {
    // The browser's CSRF token, as any of its pages carries it (the sign-in page always has a form).
    const token = csrf === undefined ? hiddenFields(await (await jar.fetch(`${server.url}/login`)).text()).csrf! : csrf;
    const form: Record<string, string> = { decision, ...(token === null ? {} : { csrf: token }) };
    const response = await jar.fetch(`${server.url}/approvals/${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    const location = response.headers.get('location') ?? undefined;
    if (response.status !== 303 || !location?.startsWith('/approvals?')) return { status: response.status, location, html: await response.text() };
    // Redirect-after-POST: the browser follows it to the inbox, which says the outcome.
    const page = await jar.fetch(new URL(location, server.url));
    expect(page.status).toBe(200);
    return { status: response.status, location, html: await page.text() };
  }
  const decisions = async (approval: string) => (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'approval.decided' && r.details.approval === approval);
  const statusOf = async (id: string) => (await server.deps.store.approvals.find(id))?.status;

  browserTest('in a real browser: sign in, see the request in words, approve it', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(`${server.url}/approvals`);
      await signInInBrowser(page, 'alice@example.com');
      await page.waitForURL(`${server.url}/approvals`);
      expect(await page.locator('main').innerText()).toContain('Nothing is waiting for your approval.');

      const cookie = (await chromium.context.cookies(server.url)).find((c) => c.name === 'consulate_session')!;
      const session = (await server.deps.store.logins.findSession(hashId(cookie.value), server.deps.now()))!;
      const opened = await open(session.sub, { kind: 'subject' }, { request: { ...payment, bindingMessage: 'Invoice 42 <b>now</b>' } });

      await page.reload();
      const text = await page.locator('main').innerText();
      expect(text).toContain('Helper Bot for Alice Anderson (alice@example.com)');
      expect(text).toContain('Message: Invoice 42 <b>now</b>');
      expect(await page.locator('main q').innerText()).toBe('Invoice 42 <b>now</b>');
      // Her own request: in the words of the consent page ("your"), what it asks at the bank under its name.
      expect(text).toContain('Know who you are (your account id and the organisation you signed in with)');
      const atBank = page.getByRole('region', { name: 'Example Bank' });
      expect(await atBank.getByRole('heading').innerText()).toBe('On Example Bank');
      const items = atBank.getByRole('listitem');
      expect(await items.nth(0).innerText()).toBe('Make payments from your account');
      expect(await items.nth(1).innerText()).toContain('pay up to 100 USD');
      expect(await items.nth(1).locator('dt').allInnerTexts()).toEqual(['creditorName']);
      expect(await items.nth(1).locator('dd').allInnerTexts()).toEqual(['Acme Supplies']);
      expect(text).toMatch(/Expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 10 minutes\)/);
      expect(await page.locator('main b').count()).toBe(0);

      await page.getByRole('button', { name: 'Approve' }).click();
      // Redirect-after-POST: the browser is back on the inbox, which says what happened.
      await page.waitForURL(`${server.url}/approvals?decided=${opened.id}`);
      expect(await page.getByRole('status').innerText()).toBe('Approved: Helper Bot may go ahead.');
      expect(await page.locator('main').innerText()).toContain('Nothing is waiting for your approval.');
      expect(await statusOf(opened.id)).toBe('approved');
      expect(await decisions(opened.id)).toMatchObject([{ clientId: 'helper', subject: session.sub, details: { decision: 'approve', approver: session.sub, outcome: 'approved' } }]);
      // A reload shows the page again and decides nothing again.
      await page.reload();
      expect(await page.getByRole('status').innerText()).toBe('Approved: Helper Bot may go ahead.');
      expect(await decisions(opened.id)).toHaveLength(1);

      // The account page links here.
      await page.goto(`${server.url}/account`);
      await page.getByRole('link', { name: 'Requests waiting for your approval' }).click();
      await page.waitForURL(`${server.url}/approvals`);
    } finally {
      await chromium.close();
    }
  }, 60_000);

  it('signed out: the inbox sends to login, a decision is not taken', async () => {
    const response = await fetch(`${server.url}/approvals`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?return_to=%2Fapprovals');
    const jar = cookieJar();
    const csrf = hiddenFields(await (await jar.fetch(`${server.url}/login`)).text()).csrf!;
    const opened = await open(carol.sub, { kind: 'subject' });
    const post = await jar.fetch(`${server.url}/approvals/${opened.id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, decision: 'approve' }) });
    expect(post.status).toBe(303);
    expect(await statusOf(opened.id)).toBe('pending');
  });

  it('the manager named by the person’s claims approves; the person does not see it', async () => {
    const opened = await open(carol.sub, { kind: 'manager', email: 'mgr@example.test' });
    const carolJar = await signedIn(carol);
    expect(await inbox(carolJar)).not.toContain(opened.id);
    const mgrJar = await signedIn(mgr);
    const html = await inbox(mgrJar);
    expect(html).toContain(`action="/approvals/${opened.id}"`);
    expect(html).toContain('Helper Bot for Carol Example (carol@example.test)');
    expect(html).not.toContain('approvals:');

    const answer = await decide(mgrJar, opened.id, 'approve');
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/approvals?decided=${opened.id}`);
    expect(answer.html).toContain('<p role="status">Approved: Helper Bot may go ahead.</p>');
    expect(await statusOf(opened.id)).toBe('approved');
    expect(await decisions(opened.id)).toMatchObject([{ details: { decision: 'approve', approver: mgr.sub, outcome: 'approved', approvals: 1 } }]);

    // Decided already: a clear message, nothing recorded.
    const again = await decide(mgrJar, opened.id, 'deny');
    expect(again.status).toBe(409);
    expect(again.html).toContain('That request is no longer open: it was already decided, or it expired.');
    expect(await decisions(opened.id)).toHaveLength(1);
  });

  it('dual: two different people of the group, never an excluded one, never one person twice', async () => {
    const opened = await open(carol.sub, { kind: 'dual', group: 'finance', exclude: [frank.sub] });
    const [danJar, erinJar, frankJar, carolJar] = await Promise.all([signedIn(dan), signedIn(erin), signedIn(frank), signedIn(carol)]);
    // Excluded, and the person represented: they do not see it and cannot decide it.
    expect(await inbox(frankJar)).not.toContain(opened.id);
    expect(await inbox(carolJar)).not.toContain(opened.id);
    const refused = await decide(frankJar, opened.id, 'approve');
    expect(refused.status).toBe(404);
    expect(refused.html).toContain('There is no such request waiting for your decision.');

    expect(await inbox(erinJar)).toContain('0 of 2 approvals');
    const first = await decide(danJar, opened.id, 'approve');
    expect(first.status).toBe(303);
    expect(first.html).toContain('it still needs another person&#39;s approval');
    expect(first.html).not.toContain(opened.id);
    expect(await statusOf(opened.id)).toBe('pending');

    const twice = await decide(danJar, opened.id, 'approve');
    expect(twice.status).toBe(409);
    expect(twice.html).toContain('You have already decided on that request.');

    const erinPage = await inbox(erinJar);
    expect(erinPage).toContain(opened.id);
    expect(erinPage).toContain('1 of 2 approvals: dan@example.test');
    const second = await decide(erinJar, opened.id, 'approve');
    expect(second.status).toBe(303);
    expect(second.html).toContain('Approved: Helper Bot may go ahead.');
    // Dan's link now says the outcome too: it is read from the request, not from the link.
    expect(await inbox(danJar)).not.toContain('Approved: Helper Bot');
    expect(await (await danJar.fetch(`${server.url}/approvals?decided=${opened.id}`)).text()).toContain('Approved: Helper Bot may go ahead.');
    expect(await statusOf(opened.id)).toBe('approved');
    expect((await decisions(opened.id)).map((r) => r.details)).toMatchObject([
      { decision: 'approve', approver: dan.sub, outcome: 'pending', approvals: 1 },
      { decision: 'approve', approver: erin.sub, outcome: 'approved', approvals: 2 },
    ]);
  });

  it('deny → denied; no CSRF or a foreign one → refused; another person’s or an unknown id → not found', async () => {
    const carolJar = await signedIn(carol);
    const danJar = await signedIn(dan);
    const opened = await open(carol.sub, { kind: 'subject' });
    const message = (opened.record.request as { bindingMessage: string }).bindingMessage;

    expect((await decide(carolJar, opened.id, 'approve', null)).status).toBe(403);
    await inbox(carolJar);
    const foreign = hiddenFields(await (await danJar.fetch(`${server.url}/login`)).text()).csrf!;
    const forged = await decide(carolJar, opened.id, 'approve', foreign);
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('This form has expired or was not sent by this browser.');
    expect(await statusOf(opened.id)).toBe('pending');

    const notTheirs = await decide(danJar, opened.id, 'deny');
    const unknown = await decide(danJar, '01900000-0000-7000-8000-000000000000', 'deny');
    for (const answer of [notTheirs, unknown]) {
      expect(answer.status).toBe(404);
      expect(answer.html).toContain('There is no such request waiting for your decision.');
      expect(answer.html).not.toContain(message);
    }
    expect(await statusOf(opened.id)).toBe('pending');

    expect((await decide(carolJar, opened.id, 'maybe')).status).toBe(400);
    const denied = await decide(carolJar, opened.id, 'deny');
    expect(denied.status).toBe(303);
    expect(denied.html).toContain('Denied: the request of Helper Bot is refused.');
    expect(await statusOf(opened.id)).toBe('denied');
    // The outcome link of a request someone else decided (or none at all) says nothing.
    for (const link of [`/approvals?decided=${opened.id}`, '/approvals?decided=01900000-0000-7000-8000-000000000000']) {
      const html = await (await danJar.fetch(`${server.url}${link}`)).text();
      expect(html).not.toContain('role="status"');
      expect(html).not.toContain('Helper Bot is refused');
    }
    expect(await decisions(opened.id)).toMatchObject([{ details: { decision: 'deny', approver: carol.sub, outcome: 'denied' } }]);
  });

  describe('JSON API with a person’s Passport', () => {
    const api = `/approvals/api`;
    const passport = async (person: Person) => (await personTokens(server, person, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    const call = async (path: string, token: string | undefined, init: RequestInit = {}) => {
      const response = await fetch(`${server.url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });
      const text = await response.text();
      return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };
    const post = (id: string, token: string | undefined, body: unknown) => call(`${api}/${id}`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('a plain sign-in Passport (no approvals scope) may not decide: 403 insufficient_scope, and nothing changes', async () => {
      const opened = await open(carol.sub, { kind: 'subject' });
      const plain = (await personTokens(server, carol, { identityScopes: ['openid'], resource: undefined, resourceScopes: [] })).access_token;
      const listed = await call(api, plain);
      expect(listed.status).toBe(403);
      expect(listed.challenge).toContain('scope="approvals"');
      expect((await post(opened.id, plain, { decision: 'approve' })).status).toBe(403);
      expect((await server.deps.store.approvals.find(opened.id))?.status).toBe('pending');
    });

    it('lists the person’s requests in words and approves one, audited like the page', async () => {
      const opened = await open(carol.sub, { kind: 'subject' });
      const token = await passport(carol);
      const list = await call(api, token);
      expect(list.status).toBe(200);
      const mine = (list.body.approvals as Record<string, unknown>[]).find((a) => a.id === opened.id);
      expect(mine).toMatchObject({ kind: 'ciba', client: 'helper', client_name: 'Helper Bot', person: 'Carol Example (carol@example.test)', resource: 'Example Bank', asks: ['Make payments from your account', 'pay up to 100 USD (creditorName: Acme Supplies)'], expires_at: opened.record.expiresAt, approvals: { needed: 1, approved_by: [] } });
      expect(mine?.summary).toContain('Helper Bot for Carol Example (carol@example.test) asks to');

      const approved = await post(opened.id, token, { decision: 'approve' });
      expect(approved).toMatchObject({ status: 200, body: { approval: opened.id, decision: 'approve', outcome: 'approved' } });
      expect(await decisions(opened.id)).toMatchObject([{ details: { decision: 'approve', approver: carol.sub, outcome: 'approved' } }]);
      expect((await post(opened.id, token, { decision: 'approve' })).status).toBe(409);
    });

    it('refuses missing, invalid and resource Passports with RFC 6750 challenges, and bad bodies', async () => {
      const none = await call(api, undefined);
      expect(none.status).toBe(401);
      expect(none.challenge).toBe('Bearer');
      const invalid = await call(api, 'not.a.token');
      expect(invalid.status).toBe(401);
      expect(invalid.challenge).toContain('error="invalid_token"');
      const forApi = (await personTokens(server, carol)).access_token;
      expect((await call(api, forApi)).status).toBe(401);
      const malformed = await call(api, undefined, { headers: { authorization: 'Bearer a b' } });
      expect(malformed.status).toBe(400);
      expect(malformed.challenge).toContain('error="invalid_request"');

      const opened = await open(carol.sub, { kind: 'subject' });
      const token = await passport(carol);
      expect((await post(opened.id, token, { decision: 'yes' })).status).toBe(400);
      expect((await call(`${api}/${opened.id}`, token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'approve' })).status).toBe(400);
      const huge = server.config.main.http.max_body_bytes + 1;
      expect((await post(opened.id, token, { decision: 'approve', pad: 'x'.repeat(huge) })).status).toBe(413);
      expect(await statusOf(opened.id)).toBe('pending');
    });

    it('another person’s request, and the requesting client’s own, are not found', async () => {
      const opened = await open(carol.sub, { kind: 'subject' });
      const danToken = await passport(dan);
      expect(((await call(api, danToken)).body.approvals as { id: string }[]).map((a) => a.id)).not.toContain(opened.id);
      expect(await post(opened.id, danToken, { decision: 'approve' })).toMatchObject({ status: 404, body: { error: 'not_found' } });

      // web-app holds Carol's Passport: it may not decide what web-app itself asked for.
      const ownRequest = await open(carol.sub, { kind: 'subject' }, { clientId: 'web-app' });
      const carolToken = await passport(carol);
      expect(((await call(api, carolToken)).body.approvals as { id: string }[]).map((a) => a.id)).not.toContain(ownRequest.id);
      expect((await post(ownRequest.id, carolToken, { decision: 'approve' })).status).toBe(404);
      expect(await statusOf(opened.id)).toBe('pending');
      expect(await statusOf(ownRequest.id)).toBe('pending');
    });
  });

  describe('webhook', () => {
    const verify = (received: Received) => {
      const header = String(received.headers['consulate-signature']);
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      expect(match).not.toBeNull();
      const t = Number(match![1]);
      expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
      expect(match![2]).toBe(createHmac('sha256', hookSecret).update(`${t}.${received.body}`).digest('hex'));
      return JSON.parse(received.body) as Record<string, unknown>;
    };
    const bodyOf = (id: string, event: string) => receiver.received.find((r) => r.body.includes(`"approval":"${id}"`) && r.body.includes(`"event":"${event}"`));

    it('a signed approval.requested, then approval.decided with the outcome', async () => {
      receiver.state.mode = 'ok';
      const opened = await open(carol.sub, { kind: 'manager', email: 'mgr@example.test' }, { request: { ...payment, bindingMessage: 'Invoice 7' } });
      const requested = verify(await until(() => bodyOf(opened.id, 'approval.requested')));
      expect(requested).toEqual({
        event: 'approval.requested',
        approval: opened.id,
        kind: 'ciba',
        client: 'helper',
        approvers: { kind: 'manager', email: 'mgr@example.test' },
        expires_at: opened.record.expiresAt,
        summary: 'Helper Bot for Carol Example (carol@example.test) asks to know who they are (their account id and the organisation they signed in with); make payments from your account on Example Bank; pay up to 100 USD (creditorName: Acme Supplies) on Example Bank. Message: “Invoice 7”',
        inbox: `${server.issuer}/approvals`,
      });
      expect(receiver.received.find((r) => r === bodyOf(opened.id, 'approval.requested'))?.headers['content-type']).toBe('application/json');

      await decide(await signedIn(mgr), opened.id, 'deny');
      const decided = verify(await until(() => bodyOf(opened.id, 'approval.decided')));
      expect(decided).toMatchObject({ event: 'approval.decided', approval: opened.id, outcome: 'denied', approvers: { kind: 'manager' } });
    });

    it('a receiver that fails or hangs never fails or delays opening a request; the failure is logged without secrets', async () => {
      receiver.state.mode = 'fail';
      const failed = await open(carol.sub, { kind: 'subject' });
      expect(failed.id).toBeTruthy();
      await until(() => server.logs.find((l) => l.msg === 'approval notification refused by the receiver' && l.approval === failed.id && l.status === 500));

      receiver.state.mode = 'hang';
      const started = Date.now();
      const hung = await open(carol.sub, { kind: 'dual', group: 'finance', exclude: [] });
      expect(Date.now() - started).toBeLessThan(400);
      await until(() => server.logs.find((l) => l.msg === 'approval notification failed' && l.approval === hung.id && l.error === 'TimeoutError'), 3000);
      expect(await statusOf(hung.id)).toBe('pending');
      receiver.state.mode = 'ok';

      const logs = server.rawLogs();
      expect(logs).not.toContain(hookSecret);
      expect(logs).not.toContain(receiver.url);
    });
  });
});
