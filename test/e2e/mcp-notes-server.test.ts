// The example MCP server (examples/mcp-notes/) against a real Consulate and the real demo API
// downstream, with the official MCP SDK client. Consulate runs the committed demo config of the
// server (config/resources/mcp-notes.yaml, config/clients/notes-mcp-server.yaml, its published
// secret) with the resource moved to a free port; the web app fixture may ask for that resource.
// The full OAuth discovery and step-up flow of MCP clients is tested elsewhere: here the person's
// Passport goes in through requestInit.headers.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNotesMcpServer, type NotesMcpServer } from '../../examples/mcp-notes/server.ts';
import { startDemoApi, type DemoApi } from '../../src/demo/demo-api.ts';
import { freePort } from './support/browser.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import { accessTokenType, addPerson, agentAuth, agentSecret, agentYaml, api, envName, exchangeGrant, personTokens, type Person } from './support/delegation.ts';

const root = resolve(import.meta.dirname, '../..');
const committed = (path: string) => readFileSync(resolve(root, path), 'utf8');
/** The secret the README publishes for the demo's notes-mcp-server. */
const serverSecret = 's4b2HnAkxga344gY12B7tQoqVKBeoaT0sq5pNslNg2M';

type Sent = { url: string; method: string; authorization: string | undefined };

describe('the example MCP server (notes)', () => {
  let server: TestConsulate;
  let demoApi: DemoApi;
  let notes: NotesMcpServer;
  let resource: string;
  let ada: Person;
  let offset = 0;
  const now = () => Math.floor(Date.now() / 1000) + offset;
  // Every request the MCP server makes (JWKS, token exchange, the downstream API).
  const sent: Sent[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, method: init?.method ?? 'GET', authorization: new Headers(init?.headers).get('authorization') ?? undefined });
    return fetch(input, init);
  };
  const clients: Client[] = [];

  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    const movePort = (text: string) => text.replaceAll('http://127.0.0.1:8092/mcp', resource);
    const webApp = readFileSync(resolve(root, 'test/fixtures/config/clients/web-app.yaml'), 'utf8').replace('resources:\n', `resources:\n  ${resource}:\n    scopes: [notes:read, notes:write]\n`);
    server = await startConsulate({
      now,
      files: {
        'resources/mcp-notes.yaml': movePort(committed('config/resources/mcp-notes.yaml')),
        'clients/notes-mcp-server.yaml': movePort(committed('config/clients/notes-mcp-server.yaml')),
        'clients/web-app.yaml': webApp,
        // An agent that acts for Ada at the MCP server: the server's own exchange then nests it.
        'clients/note-taker.yaml': agentYaml('note-taker', 'act_for: { groups: [Engineering] }\nsubject_token_clients: [web-app]\nmax_chain: 2', `  ${resource}:\n    scopes: [notes:read]`),
      },
      env: { [envName('note-taker')]: hashSecret(agentSecret('note-taker')) },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['Engineering'] });
    demoApi = await startDemoApi({ issuer: server.issuer, resource: api });
    notes = await startNotesMcpServer({ issuer: server.issuer, resource, port, downstream: { url: demoApi.url, resource: api }, agent: { clientId: 'notes-mcp-server', clientSecret: serverSecret }, fetch: recording });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    offset = 0;
  });
  afterAll(async () => {
    await notes?.close();
    await demoApi?.close();
    await server?.stop();
  });

  /** Ada's Passport for the MCP server, from the web app, with these scopes. */
  const passport = async (scopes: string[], person = ada) => (await personTokens(server, person, { resource, resourceScopes: scopes })).access_token;

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: 'notes-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(notes.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  }

  /** A tool's text result as JSON, or the text of its error. */
  async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; value: unknown }> {
    const result = await client.callTool({ name, arguments: args });
    const content = result.content as { type: string; text: string }[];
    const text = content[0]?.text ?? '';
    return { isError: result.isError === true, value: result.isError ? text : JSON.parse(text) };
  }

  const post = (body: string, token?: string) =>
    fetch(notes.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const toolCall = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });

  it('without a Passport: 401 with a Bearer challenge naming its RFC 9728 metadata, and the SDK client gets no session', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(notes.metadataUrl).toBe(`http://127.0.0.1:${new URL(resource).port}/.well-known/oauth-protected-resource/mcp`);
    expect(extractWWWAuthenticateParams(response).resourceMetadataUrl?.href).toBe(notes.metadataUrl);

    const client = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(notes.url)))).rejects.toMatchObject({ code: 401 });
  });

  it('serves its RFC 9728 metadata at the path-inserted well-known URL: resource, Consulate, its scopes', async () => {
    const response = await fetch(notes.metadataUrl);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource, authorization_servers: [server.issuer], scopes_supported: ['notes:read', 'notes:write'], bearer_methods_supported: ['header'] });
    // The root document is not this resource's (RFC 9728 §3.1).
    expect((await fetch(new URL('/.well-known/oauth-protected-resource', notes.url))).status).toBe(404);
  });

  it('refuses a Passport for another audience (the demo API\'s) with 401 invalid_token', async () => {
    const forApi = (await personTokens(server, ada)).access_token;
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), forApi);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token".*resource_metadata="/);
    await expect(connect(forApi)).rejects.toMatchObject({ code: 401 });
  });

  it('lists every tool, whatever the Passport\'s scopes', async () => {
    const client = await connect(await passport(['notes:read']));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add_note', 'list_notes', 'whoami']);
    expect(tools.find((t) => t.name === 'add_note')?.inputSchema.properties).toHaveProperty('text');
  });

  it('whoami shows the person the Passport represents', async () => {
    const client = await connect(await passport(['notes:read']));
    expect(await call(client, 'whoami')).toEqual({ isError: false, value: { sub: ada.sub, act: null, client_id: 'web-app', scope: expect.stringMatching(/(^| )notes:read( |$)/) } });
  });

  it('list_notes exchanges the Passport for a read-data Passport for the demo API: sub the person, act the MCP server', async () => {
    const token = await passport(['notes:read']);
    const client = await connect(token);
    const from = sent.length;
    const { isError, value } = await call(client, 'list_notes');
    expect(isError, String(value)).toBe(false);
    // The demo API's own answer: who called it, as its guard verified.
    expect(value).toMatchObject({ resource: api, caller: { sub: ada.sub, client_id: 'notes-mcp-server', act: { sub: 'notes-mcp-server' }, scope: 'read-data' } });
    // What reached the API: a new, narrower Passport, never the one the MCP server received.
    const downstream = sent.slice(from).filter((s) => s.url.startsWith(demoApi.url));
    expect(downstream).toHaveLength(1);
    const bearer = downstream[0]?.authorization?.replace(/^Bearer /, '') ?? '';
    expect(bearer).not.toBe(token);
    expect(decodeJwt(bearer)).toMatchObject({ aud: api, sub: ada.sub, scope: 'read-data', act: { sub: 'notes-mcp-server' }, client_id: 'notes-mcp-server' });
  });

  it('a Passport an agent got for Ada: the downstream Passport nests the chain (act: the MCP server, then the agent)', async () => {
    const exchanged = await postForm(server, '/token', { grant_type: exchangeGrant, subject_token: await passport(['notes:read']), subject_token_type: accessTokenType, resource, scope: 'notes:read' }, agentAuth('note-taker'));
    expect(exchanged.status, exchanged.text).toBe(200);
    const agentPassport = exchanged.body.access_token as string;
    expect(decodeJwt(agentPassport)).toMatchObject({ sub: ada.sub, aud: resource, act: { sub: 'note-taker' } });
    const client = await connect(agentPassport);
    const from = sent.length;
    const { isError, value } = await call(client, 'list_notes');
    expect(isError, String(value)).toBe(false);
    expect(value).toMatchObject({ caller: { sub: ada.sub, act: { sub: 'notes-mcp-server', act: { sub: 'note-taker' } }, scope: 'read-data' } });
    const bearer = sent.slice(from).find((s) => s.url.startsWith(demoApi.url))?.authorization?.replace(/^Bearer /, '') ?? '';
    expect(decodeJwt(bearer).act).toEqual({ sub: 'notes-mcp-server', act: { sub: 'note-taker' } });
  });

  it('add_note with only notes:read: HTTP 403 insufficient_scope asking for notes:read notes:write, and nothing reaches Consulate or the API', async () => {
    const token = await passport(['notes:read']);
    const client = await connect(token);
    const from = sent.length;
    const refused = await client.callTool({ name: 'add_note', arguments: { text: 'sneaky' } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect(refused).toMatchObject({ code: 403 });

    const response = await post(toolCall('add_note', { text: 'sneaky' }), token);
    expect(response.status).toBe(403);
    // What an MCP client steps up from: the SDK's own parser reads error, scope and metadata.
    expect(extractWWWAuthenticateParams(response)).toEqual({ error: 'insufficient_scope', scope: 'notes:read notes:write', resourceMetadataUrl: new URL(notes.metadataUrl) });
    expect(sent.slice(from)).toEqual([]);
    const stored = await (await fetch(`${demoApi.url}/data`, { headers: { authorization: `Bearer ${await passportForApi()}` } })).json();
    expect(JSON.stringify(stored)).not.toContain('sneaky');
  });

  it('add_note with notes:write stores the note downstream under a write-data Passport, and list_notes shows it', async () => {
    const client = await connect(await passport(['notes:read', 'notes:write']));
    const added = await call(client, 'add_note', { text: 'buy milk' });
    expect(added.isError, String(added.value)).toBe(false);
    expect(added.value).toMatchObject({ stored: 'buy milk', caller: { sub: ada.sub, act: { sub: 'notes-mcp-server' }, scope: 'write-data' } });
    const listed = await call(client, 'list_notes');
    expect(listed.value).toMatchObject({ notes: expect.arrayContaining([{ text: 'buy milk', by: ada.sub }]) });
  });

  it('add_note with notes:write only may not list notes (403 asking for both)', async () => {
    const response = await post(toolCall('list_notes'), await passport(['notes:write']));
    expect(response.status).toBe(403);
    expect(extractWWWAuthenticateParams(response).scope).toBe('notes:read notes:write');
  });

  it('a revoked Passport passes the offline guard but its exchange fails: an MCP tool error, not a crash', async () => {
    const token = await passport(['notes:read']);
    const client = await connect(token);
    const revoked = await postForm(server, '/revoke', { token }, { authorization: basicAuth('web-app', secrets['web-app']) });
    expect(revoked.status).toBe(200);
    const result = await call(client, 'list_notes');
    expect(result).toEqual({ isError: true, value: expect.stringMatching(/^Consulate refused the token exchange: invalid_request/) });
    // The server is still there.
    expect((await call(client, 'whoami')).isError).toBe(false);
  });

  it('a Passport that expired at Consulate but not yet at the MCP server (clocks apart): the exchange is refused, as a tool error', async () => {
    const token = await passport(['notes:read']);
    const client = await connect(token);
    // Consulate's clock runs 310 s ahead: the 300 s Passport is past exp there, still fresh here.
    offset = 310;
    expect(decodeJwt(token).exp).toBeLessThan(now());
    expect(await call(client, 'list_notes')).toEqual({ isError: true, value: expect.stringMatching(/^Consulate refused the token exchange: invalid_request/) });
  });

  it('answers malformed JSON with a JSON-RPC parse error and an oversized body with 413, no stack trace', async () => {
    const token = await passport(['notes:read']);
    const malformed = await post('{"jsonrpc": "2.0", "method": ', token);
    expect(malformed.status).toBe(400);
    const text = await malformed.text();
    expect(JSON.parse(text)).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    const big = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'add_note', arguments: { text: 'x'.repeat(100_000) } } }), token);
    expect(big.status).toBe(413);
    expect(await big.text()).not.toMatch(/at .*\.ts|stack/i);
  });

  it('refuses a browser page of another origin (DNS rebinding) even with a valid Passport', async () => {
    const response = await fetch(notes.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://evil.example', authorization: `Bearer ${await passport(['notes:read'])}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(403);
  });

  /** A read-data Passport of the demo agent of the fixtures, to look at the API's notes directly. */
  async function passportForApi(): Promise<string> {
    const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    return (response.body as { access_token: string }).access_token;
  }
});
