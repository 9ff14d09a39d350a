// An MCP client meets Consulate the way MCP authorization (2026-07-28) describes: the official MCP
// SDK client calls the example MCP server (examples/mcp-notes/), gets 401 with resource_metadata,
// discovers Consulate through RFC 9728 and RFC 8414, names itself by the HTTPS URL of its Client ID
// Metadata Document, and completes the browser step at the stand-in Okta (a test-only automatic
// login); a tool that needs a wider scope makes the SDK step up through a second authorization.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotesMcpServer } from '../../examples/mcp-notes/server.ts';
import { drive, redirectParams } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { startDocumentHost } from './support/document-host.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { committed, startNotesStack } from './support/mcp.ts';
import { makeTestCertificate } from './support/tls.ts';
import type { Upstream } from './support/upstreams.ts';

const alice = 'alice@example.com';
const redirectUrl = 'http://127.0.0.1:33418/callback';

/** The MCP SDK's provider as an MCP client app implements it; the browser step is `drive`. */
function provider(clientMetadataUrl: string, browse: (url: URL) => Promise<string>) {
  let tokens: OAuthTokens | undefined;
  let info: OAuthClientInformationMixed | undefined;
  let verifier = '';
  const state = { code: '', authorizations: [] as URL[] };
  const metadata: OAuthClientMetadata = { client_name: 'Test MCP client', redirect_uris: [redirectUrl], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  const oauth: OAuthClientProvider = {
    clientMetadataUrl,
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return metadata;
    },
    clientInformation: () => info,
    saveClientInformation: (value) => void (info = value),
    tokens: () => tokens,
    saveTokens: (value) => void (tokens = value),
    saveCodeVerifier: (value) => void (verifier = value),
    codeVerifier: () => verifier,
    async redirectToAuthorization(url) {
      state.authorizations.push(url);
      state.code = await browse(url);
    },
  };
  return { oauth, state, tokens: () => tokens };
}

describe('an MCP client with a Client ID Metadata Document', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  let notes: NotesMcpServer;
  let host: Awaited<ReturnType<typeof startDocumentHost>>;
  let resource: string;
  let clientId: string;

  beforeAll(async () => {
    const cert = makeTestCertificate();
    host = await startDocumentHost(cert);
    clientId = `${host.base}/clients/notes-app.json`;
    host.documents.set('/clients/notes-app.json', { client_id: clientId, client_name: 'Notes App', redirect_uris: [redirectUrl], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none' });
    host.documents.set('/clients/keys-by-url.json', { client_id: `${host.base}/clients/keys-by-url.json`, redirect_uris: [redirectUrl], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${host.base}/internal/keys` });
    host.documents.set('/clients/liar.json', { client_id: `${host.base}/clients/someone-else.json`, redirect_uris: [redirectUrl] });
    ({ server, okta, notes, resource, stop } = await startNotesStack(
      (mcp) => `client_id_metadata_documents:\n  allow_loopback_http: true\n  ca_file: document-ca.pem\n  resources:\n    ${mcp}:\n      scopes: [notes:read, notes:write]\n`,
      { 'document-ca.pem': cert.cert },
    ));
  });

  afterAll(async () => {
    await host?.close();
    await stop?.();
  });

  /** The person's browser: signs in at the stand-in Okta, consents, returns the code (checking RFC 9207 iss). */
  const browser = () => {
    const jar = cookieJar();
    return async (url: URL) => {
      const outcome = await drive(server, okta, jar, url, { username: alice });
      const params = redirectParams(outcome, redirectUrl);
      expect(params.get('iss')).toBe(server.issuer);
      expect(params.get('state')).toBe(url.searchParams.get('state'));
      return params.get('code') as string;
    };
  };

  it('discovers Consulate from the 401, authenticates by document URL, calls a tool, and steps up for a wider scope', async () => {
    const app = provider(clientId, browser());
    const connect = async () => {
      const client = new Client({ name: 'test-mcp-client', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: app.oauth });
      return { client, transport, connected: client.connect(transport) };
    };

    // 1. No token: 401 → RFC 9728 → Consulate's metadata → authorization with the URL as client_id.
    const first = await connect();
    await expect(first.connected).rejects.toBeInstanceOf(UnauthorizedError);
    const authorization = app.state.authorizations[0] as URL;
    expect(authorization.origin + authorization.pathname).toBe(`${server.issuer}/authorize`);
    expect(authorization.searchParams.get('client_id')).toBe(clientId);
    expect(authorization.searchParams.get('resource')).toBe(resource);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    await first.transport.finishAuth(app.state.code);
    const passport = decodeJwt(app.tokens()?.access_token as string);
    expect(passport).toMatchObject({ iss: server.issuer, aud: resource, client_id: clientId });
    expect(String(passport.scope).split(' ')).toContain('notes:read');

    // 2. Connected: the tool runs as the person, for the client named by its document URL.
    const second = await connect();
    await second.connected;
    const whoami = await second.client.callTool({ name: 'whoami', arguments: {} });
    expect(whoami.isError).toBeFalsy();
    expect(JSON.stringify(whoami.content)).toContain(String(passport.sub));
    expect(JSON.stringify(whoami.content)).toContain(clientId);
    await second.client.close();
    // One fetch of the document served both the authorization and the token request (cached).
    expect(host.hits.filter((path) => path === '/clients/notes-app.json')).toHaveLength(1);
  });

  it('steps up: a tool that needs notes:write gets 403 insufficient_scope and the SDK authorizes again with it', async () => {
    const app = provider(clientId, browser());
    const connected = async () => {
      const client = new Client({ name: 'test-mcp-client', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: app.oauth });
      await client.connect(transport);
      return { client, transport };
    };
    // Sign in with notes:read only (the scope the client's own first request names).
    const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: app.oauth });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(app.state.authorizations).toHaveLength(1);
    const narrow = new URL(app.state.authorizations[0] as URL);
    narrow.searchParams.set('scope', 'notes:read');
    app.state.code = await browser()(narrow);
    await transport.finishAuth(app.state.code);
    expect(decodeJwt(app.tokens()?.access_token as string).scope).toBe('notes:read');

    const session = await connected();
    await expect(session.client.callTool({ name: 'add_note', arguments: { text: 'from an MCP client' } })).rejects.toBeInstanceOf(UnauthorizedError);
    const stepUp = app.state.authorizations[1] as URL;
    expect(stepUp.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    await session.transport.finishAuth(app.state.code);
    expect(String(decodeJwt(app.tokens()?.access_token as string).scope).split(' ')).toContain('notes:write');
    const retried = await connected();
    const added = await retried.client.callTool({ name: 'add_note', arguments: { text: 'from an MCP client' } });
    expect(added.isError).toBeFalsy();
    await retried.client.close();
  });

  it('tells the person on the consent page that the document\'s host, not the organization, describes the client', async () => {
    const url = new URL(`${server.issuer}/authorize`);
    for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: redirectUrl, response_type: 'code', scope: 'notes:read', resource, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's', prompt: 'consent' })) url.searchParams.set(k, v);
    const outcome = await drive(server, okta, cookieJar(), url, { username: alice, consent: 'leave' });
    const text = (outcome.page?.html ?? '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text).toContain('Allow Notes App?');
    expect(text).toContain(`Your organization has not reviewed this application: it is described by ${new URL(clientId).host} and will take you back to 127.0.0.1:33418`);
  });

  it('refuses a document whose client_id is not its own URL, and never redirects to its redirect URI', async () => {
    const liar = `${host.base}/clients/liar.json`;
    const url = new URL(`${server.issuer}/authorize`);
    for (const [k, v] of Object.entries({ client_id: liar, redirect_uri: redirectUrl, response_type: 'code', scope: 'notes:read', resource, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' })) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(host.hits).toContain('/clients/liar.json');
  });

  it('refuses a document whose keys are only at a jwks_uri (fetched later without the document\'s address checks)', async () => {
    const url = new URL(`${server.issuer}/authorize`);
    for (const [k, v] of Object.entries({ client_id: `${host.base}/clients/keys-by-url.json`, redirect_uri: redirectUrl, response_type: 'code', scope: 'notes:read', resource, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' })) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(host.hits).not.toContain('/internal/keys');
  });

  it('requires the resource parameter from a document client (RFC 8707), answering at its redirect URI', async () => {
    const url = new URL(`${server.issuer}/authorize`);
    for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: redirectUrl, response_type: 'code', scope: 'notes:read', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' })) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') as string);
    expect(location.origin + location.pathname).toBe(redirectUrl);
    expect(location.searchParams.get('error')).toBe('invalid_target');
  });

  it('advertises Client ID Metadata Documents, PKCE and RFC 9207 in its RFC 8414 metadata, and no registration endpoint by default', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: server.issuer, client_id_metadata_document_supported: true, code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true });
    expect(metadata.registration_endpoint).toBeUndefined();
  });
});

describe('Client ID Metadata Documents: refresh, the cap, and turning them off', () => {
  const resource = 'https://api.demo.example';
  let host: Awaited<ReturnType<typeof startDocumentHost>>;
  const servers: TestConsulate[] = [];
  const documentFor = (path: string, redirects: string[]) => ({ client_id: `${host.base}${path}`, client_name: `Client ${path}`, redirect_uris: redirects });

  beforeAll(async () => {
    host = await startDocumentHost(makeTestCertificate(), 'no-store');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await host?.close();
  });

  const start = async (settings: string) => {
    const cert = makeTestCertificate();
    const server = await startConsulate({
      files: {
        'consulate.yaml': `${committed('test/fixtures/config/consulate.yaml')}\nclient_id_metadata_documents:\n  allow_loopback_http: true\n  ca_file: document-ca.pem\n  resources:\n    ${resource}:\n      scopes: [read-data]\n${settings}`,
        'document-ca.pem': cert.cert,
      },
    });
    servers.push(server);
    return server;
  };
  /** /authorize for a document client: a redirect to sign in when the client is accepted, an error page when not. */
  const authorize = async (server: TestConsulate, clientId: string, redirectUri: string) => {
    const url = new URL(`${server.issuer}/authorize`);
    for (const [k, v] of Object.entries({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'read-data', resource, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' })) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location') };
  };

  it('refetches a document after its cache time: a redirect URI added to it works at once', async () => {
    const server = await start('  min_cache_seconds: 0\n');
    host.documents.set('/a.json', documentFor('/a.json', ['https://app.example.test/cb']));
    const clientId = `${host.base}/a.json`;
    expect((await authorize(server, clientId, 'https://app.example.test/other')).status).toBe(400);
    host.documents.set('/a.json', documentFor('/a.json', ['https://app.example.test/cb', 'https://app.example.test/other']));
    const accepted = await authorize(server, clientId, 'https://app.example.test/other');
    expect(accepted.status).toBe(303);
    expect(accepted.location).toContain('/login');
    // A document that disappears takes its client with it, even though a copy is stored.
    host.documents.delete('/a.json');
    expect((await authorize(server, clientId, 'https://app.example.test/cb')).status).toBe(400);
  });

  it('keeps at most max_clients document clients: a new one beyond it is refused, known ones still work', async () => {
    const server = await start('  max_clients: 1\n');
    host.documents.set('/one.json', documentFor('/one.json', ['https://one.example.test/cb']));
    host.documents.set('/two.json', documentFor('/two.json', ['https://two.example.test/cb']));
    expect((await authorize(server, `${host.base}/one.json`, 'https://one.example.test/cb')).status).toBe(303);
    expect((await authorize(server, `${host.base}/two.json`, 'https://two.example.test/cb')).status).toBe(400);
    expect((await authorize(server, `${host.base}/one.json`, 'https://one.example.test/cb')).status).toBe(303);
    expect(await server.deps.store.dynamicClients.find(`${host.base}/two.json`)).toBeUndefined();
  });

  it('turned off: a URL client_id names no client and nothing is fetched', async () => {
    const server = await start('  enabled: false\n');
    host.documents.set('/off.json', documentFor('/off.json', ['https://off.example.test/cb']));
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(false);
    expect((await authorize(server, `${host.base}/off.json`, 'https://off.example.test/cb')).status).toBe(400);
    expect(host.hits).not.toContain('/off.json');
  });
});
