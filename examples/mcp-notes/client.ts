// An MCP client of the notes server, built on the official MCP SDK the way an MCP host app would
// be: the SDK finds Consulate from the server's 401 (RFC 9728, RFC 8414), registers the client
// (RFC 7591) unless it names itself by the HTTPS URL of a Client ID Metadata Document, and sends
// the person's browser to /authorize with PKCE and the resource. This file adds what the SDK leaves
// to the app: the loopback redirect URI that receives the code (RFC 8252 §7.3), a check of the
// response's `state` and `iss` (RFC 9207: the code came from the server we sent the person to), and
// authorizing again when a tool needs more scope (the SDK's step-up).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type NotesClientOptions = {
  /** The MCP server's URL, e.g. http://127.0.0.1:8092/mcp. */
  serverUrl: string;
  /** Show the person where to sign in: print it, or open a browser. */
  openBrowser: (url: URL) => void | Promise<void>;
  /** Port of the loopback redirect URI (default 0: any free one; then the client registers itself each run). */
  callbackPort?: number;
  /** An https URL of this client's metadata document; without it the client registers (RFC 7591). */
  clientMetadataUrl?: string;
  clientName?: string;
};

export type NotesClient = {
  callTool(name: string, args?: Record<string, unknown>): Promise<unknown>;
  /** The Passport the client holds now (for showing what it was granted). */
  accessToken(): string | undefined;
  close(): Promise<void>;
};

type Callback = { code: string; state: string; iss: string | undefined };

/** The loopback redirect URI: hands each authorization response to whoever waits for it. */
async function startCallback(port: number) {
  let waiting: { resolve: (value: Callback) => void; reject: (error: Error) => void } | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback' || !waiting) return void res.writeHead(404).end();
    const { resolve, reject } = waiting;
    waiting = undefined;
    const error = url.searchParams.get('error');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(error ? 'Not authorized. You can close this window.' : 'Signed in. You can close this window and go back to the terminal.');
    if (error) return reject(new Error(`authorization refused: ${error}`));
    resolve({ code: url.searchParams.get('code') ?? '', state: url.searchParams.get('state') ?? '', iss: url.searchParams.get('iss') ?? undefined });
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const redirectUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    redirectUrl,
    next: () => new Promise<Callback>((resolve, reject) => void (waiting = { resolve, reject })),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const sameIssuer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export async function connectNotesClient(options: NotesClientOptions): Promise<NotesClient> {
  const callback = await startCallback(options.callbackPort ?? 0);
  let info: OAuthClientInformationMixed | undefined;
  let tokens: OAuthTokens | undefined;
  let verifier = '';
  let expected: { state: string; response: Promise<Callback> } | undefined;

  const provider: OAuthClientProvider = {
    ...(options.clientMetadataUrl ? { clientMetadataUrl: options.clientMetadataUrl } : {}),
    redirectUrl: callback.redirectUrl,
    clientMetadata: { client_name: options.clientName ?? 'Notes MCP client (example)', redirect_uris: [callback.redirectUrl], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    state: () => randomBytes(16).toString('base64url'),
    clientInformation: () => info,
    saveClientInformation: (value) => void (info = value),
    tokens: () => tokens,
    saveTokens: (value) => void (tokens = value),
    saveCodeVerifier: (value) => void (verifier = value),
    codeVerifier: () => verifier,
    async redirectToAuthorization(url) {
      const response = callback.next();
      response.catch(() => undefined); // read by code() once the SDK gives up waiting; not unhandled meanwhile
      expected = { state: url.searchParams.get('state') ?? '', response };
      await options.openBrowser(url);
    },
  };

  /** The code from the person's browser, once its state and issuer are the ones we sent them with. */
  const code = async (): Promise<string> => {
    if (!expected) throw new Error('no authorization is under way');
    const response = await expected.response;
    if (response.state !== expected.state) throw new Error('the authorization response does not answer our request (state)');
    const issuer = (info as { issuer?: string } | undefined)?.issuer;
    if (response.iss === undefined || issuer === undefined || !sameIssuer(response.iss, issuer)) throw new Error('the authorization response comes from another server (iss, RFC 9207)');
    return response.code;
  };

  let session: { client: Client; transport: StreamableHTTPClientTransport } | undefined;
  /** Connects, completing a browser sign-in (or a step-up) first when the server asks for one. */
  const run = async <T>(step: (connected: Client) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const current = session ?? { client: new Client({ name: 'notes-mcp-client', version: '1.0.0' }), transport: new StreamableHTTPClientTransport(new URL(options.serverUrl), { authProvider: provider }) };
      try {
        if (!session) {
          await current.client.connect(current.transport);
          session = current;
        }
        return await step(current.client);
      } catch (error) {
        if (!(error instanceof UnauthorizedError) || attempt >= 2) throw error;
        await current.transport.finishAuth(await code());
        await current.client.close().catch(() => undefined);
        session = undefined;
      }
    }
  };

  try {
    await run(async () => undefined);
  } catch (error) {
    await callback.close();
    throw error;
  }
  return {
    callTool: (name, args = {}) => run((connected) => connected.callTool({ name, arguments: args })),
    accessToken: () => tokens?.access_token,
    async close() {
      await session?.client.close();
      await callback.close();
    },
  };
}
