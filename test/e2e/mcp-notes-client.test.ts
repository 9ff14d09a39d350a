// The example MCP client (examples/mcp-notes/client.ts, official MCP SDK) against the example MCP
// server and a Consulate with dynamic registration on: it discovers Consulate from the 401,
// registers itself (RFC 7591), the person signs in at the stand-in Okta (the test's browser is
// `drive`, which then follows the redirect to the client's loopback callback), and the tools run.
// The client checks the authorization response's state and iss (RFC 9207) before redeeming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNotesClient } from '../../examples/mcp-notes/client.ts';
import type { NotesMcpServer } from '../../examples/mcp-notes/server.ts';
import { drive } from './support/authorize.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { cookieJar } from './support/browser.ts';
import type { TestConsulate } from './support/consulate.ts';
import { committed, startNotesStack } from './support/mcp.ts';
import type { Upstream } from './support/upstreams.ts';

const alice = 'alice@example.com';

describe('the example MCP client, registering itself', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let notes: NotesMcpServer;
  const registrations = async () => (await server.deps.store.audit.list()).filter((r) => r.event === 'client.registered').length;

  beforeAll(async () => {
    ({ server, okta, notes, stop } = await startNotesStack(
      (resource) => `ciba:\n  interval_seconds: 1\ndynamic_registration:\n  enabled: true\n  resources:\n    ${resource}:\n      scopes: [notes:read, notes:write]\n`,
      // The demo's policy: an agent writing (the server's exchange for write-data) needs the person's approval.
      { 'policies/demo.yaml': committed('config/policies/demo.yaml') },
    ));
  });
  afterAll(async () => stop?.());

  /** The person's browser: signs in and consents, then follows the redirect to the client's callback. */
  const browser = (consent: 'allow' | 'deny' = 'allow') => {
    const jar = cookieJar();
    return async (url: URL) => {
      const outcome = await drive(server, okta, jar, url, { username: alice, consent });
      expect(outcome.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      await fetch(outcome.location as string);
    };
  };

  it('signs the person in through a registration and runs the tools as them', async () => {
    const before = await registrations();
    const opened: URL[] = [];
    const open = browser();
    const client = await connectNotesClient({ serverUrl: notes.url, openBrowser: async (url) => (opened.push(url), open(url)) });
    try {
      expect(await registrations()).toBe(before + 1);
      expect(opened).toHaveLength(1);
      expect(opened[0]?.searchParams.get('client_id')).toMatch(/^dyn_/);
      const whoami = JSON.stringify(await client.callTool('whoami'));
      expect(whoami).toContain(opened[0]?.searchParams.get('client_id') as string);
      const notesList = JSON.stringify(await client.callTool('list_notes'));
      expect(notesList).toContain('notes-mcp-server');
    } finally {
      await client.close();
    }
  });

  it('refuses an authorization response with another issuer (RFC 9207) or another state, redeeming nothing', async () => {
    const forged = (change: (params: URLSearchParams) => void) => async (url: URL) => {
      const params = new URLSearchParams({ code: 'forged-code', state: url.searchParams.get('state') as string, iss: server.issuer });
      change(params);
      await fetch(`${url.searchParams.get('redirect_uri')}?${params}`);
    };
    await expect(connectNotesClient({ serverUrl: notes.url, openBrowser: forged((p) => p.set('iss', 'http://127.0.0.1:1/evil')) })).rejects.toThrow(/iss/);
    await expect(connectNotesClient({ serverUrl: notes.url, openBrowser: forged((p) => p.delete('iss')) })).rejects.toThrow(/iss/);
    await expect(connectNotesClient({ serverUrl: notes.url, openBrowser: forged((p) => p.set('state', 'another')) })).rejects.toThrow(/state/);
    // The forged code never reached the token endpoint (a redemption attempt would be a recorded denial).
    const denials = (await server.deps.store.audit.list()).filter((r) => r.event === 'passport.denied' && r.details.grant_type === 'authorization_code');
    expect(denials).toEqual([]);
  });

  it('reports a person who says no', async () => {
    await expect(connectNotesClient({ serverUrl: notes.url, openBrowser: browser('deny') })).rejects.toThrow(/access_denied/);
  });

  browserTest('the README walkthrough in Chromium: sign in and allow the client, then approve its add_note in the inbox', async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      const client = await connectNotesClient({
        serverUrl: notes.url,
        openBrowser: async (url) => {
          await page.goto(url.href);
          await signInInBrowser(page, alice);
          // The consent page says nobody reviewed the client and where it returns to.
          expect(await page.getByRole('note').textContent()).toContain('registered itself');
          await page.getByRole('button', { name: 'Allow' }).click();
          await page.waitForURL(/\/callback\?/);
          expect(await page.locator('body').textContent()).toContain('Signed in. You can close this window');
        },
      });
      try {
        // add_note waits for Alice: the server's exchange for write-data is an agent write.
        const adding = client.callTool('add_note', { text: 'from Chromium' });
        // Awaited below; if a browser step fails first, closing the client rejects it: not unhandled.
        adding.catch(() => undefined);
        await page.goto(`${server.issuer}/approvals`);
        for (let i = 0; i < 50 && !(await page.getByRole('button', { name: 'Approve' }).count()); i++) {
          await new Promise((done) => setTimeout(done, 100));
          await page.reload();
        }
        expect(await page.locator('main').textContent()).toContain('Notes MCP server');
        // The approval names the tool call and the note it would write, not only "Change your data".
        const atApi = page.getByRole('region', { name: 'Request of Notes MCP server' }).first().getByRole('region', { name: 'Demo API' });
        const items = atApi.getByRole('listitem');
        expect(await items.nth(0).innerText()).toBe('Change your data');
        expect(await items.nth(1).innerText()).toContain('Call one tool of the demo API: add_note');
        expect(await items.nth(1).locator('dt').allInnerTexts()).toEqual(['text', 'actions']);
        expect(await items.nth(1).locator('dd').allInnerTexts()).toEqual(['from Chromium', 'call']);
        await page.getByRole('button', { name: 'Approve' }).first().click();
        await page.waitForURL(/\/approvals\?decided=/);
        expect(await page.getByRole('status').textContent()).toContain('Approved');
        const added = JSON.stringify(await adding);
        expect(added).toContain('from Chromium');
        expect(added).toContain('write-data');
      } finally {
        await client.close();
      }
    } finally {
      await chromium.close();
    }
  });
});
