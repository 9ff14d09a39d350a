// An MCP server (streamable HTTP, stateless) protected by Consulate, as the MCP authorization spec
// asks of a resource server: Passports for its own resource only (Bearer or DPoP), RFC 9728
// metadata at the path-inserted well-known URL, 401 challenges naming that metadata, and per-tool
// scopes enforced before the MCP transport sees the request, as 403 insufficient_scope challenges
// MCP clients step up from. Tools that call the downstream API exchange the Passport (tools.ts).
import { getRequestListener } from '@hono/node-server';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgentClient, createPassportGuard, passportGuard, protectedResourceMetadata, protectedResourceMetadataUrl, type PassportEnv } from '../../src/sdk/index.ts';
import { notesScopes, scopesFor, stepUpScope } from './scopes.ts';
import { createNotesMcpServer } from './tools.ts';

export type NotesMcpServerOptions = {
  /** Consulate's issuer identifier. */
  issuer: string;
  /** This server's resource identifier, e.g. http://127.0.0.1:8092/mcp: the Passports' `aud`; the MCP endpoint is at its path. */
  resource: string;
  host?: string;
  /** Default 0: any free port (the resource then names another port only behind a proxy). */
  port?: number;
  /** The API the tools call, and its resource identifier (what Passports for it name in `aud`). */
  downstream: { url: string; resource: string };
  /** This server's own client at Consulate (kind agent, token exchange). */
  agent: { clientId: string; clientSecret: string };
  /** For JWKS, token exchange and downstream requests. */
  fetch?: typeof fetch;
  /** How long a tool waits for a person's approval of an exchange (a consent policy). Default 50 s, under MCP clients' usual 60 s. */
  approvalTimeoutMs?: number;
};

export type NotesMcpServer = { url: string; resource: string; metadataUrl: string; close(): Promise<void> };

const maxBodyBytes = 64 * 1024;
const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

/** The credential the guard accepted (it allows exactly one, Bearer or DPoP). */
const tokenOf = (authorization: string | undefined) => /^\s*(?:Bearer|DPoP)\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';

export async function startNotesMcpServer(options: NotesMcpServerOptions): Promise<NotesMcpServer> {
  const { issuer, resource } = options;
  const publicBase = new URL(resource);
  const mcpPath = publicBase.pathname.replace(/\/$/, '') || '/';
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const host = options.host ?? '127.0.0.1';

  // 1. Listen first: the local URL is known before anything is built.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const localOrigin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  // 2. The guard: this resource's Passports only. DPoP proofs must name the public URL, not a Host header.
  const guard = createPassportGuard({ issuer, resource, resourceMetadataUrl: metadataUrl, fetch: fetchImpl });
  const guarded = passportGuard(guard, { publicUrl: publicBase.origin });
  const agent = createAgentClient({ issuer, clientId: options.agent.clientId, clientSecret: options.agent.clientSecret, allowInsecureLoopback: true, fetch: fetchImpl });
  const toolDeps = { agent, downstream: options.downstream, fetch: fetchImpl, approvalTimeoutMs: options.approvalTimeoutMs ?? 50_000 };

  // Browsers send Origin: only this server's own pages may call it (DNS rebinding, MCP transport spec).
  const allowedOrigins = new Set([publicBase.origin, localOrigin]);
  const sameOrigin: MiddlewareHandler = async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowedOrigins.has(origin)) return c.json(jsonRpcError(-32000, 'Origin not allowed'), 403);
    await next();
  };

  const app = new Hono<PassportEnv>();
  app.get(new URL(metadataUrl).pathname, protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported: [...notesScopes], dpopRequired: guard.dpopRequired, resourceName: 'Notes (MCP example)' }));
  app.use(mcpPath, sameOrigin, guarded);
  // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
  app.on(['GET', 'DELETE'], mcpPath, (c) => c.json(jsonRpcError(-32000, 'Method not allowed'), 405, { Allow: 'POST' }));
  app.post(mcpPath, bodyLimit({ maxSize: maxBodyBytes, onError: (c) => c.json(jsonRpcError(-32600, 'Request body too large'), 413) }), async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json(jsonRpcError(-32700, 'Parse error'), 400);
    }

    // 3. Per-tool scopes, before the transport: a 403 the client can step up from.
    const passport = c.get('passport');
    const granted = (passport.scope ?? '').split(' ').filter(Boolean);
    const needed = scopesFor(body);
    if (needed.some((scope) => !granted.includes(scope))) {
      const refused = guard.insufficientScope(c.get('dpop') ? 'DPoP' : 'Bearer', stepUpScope(granted, needed));
      return c.json({ error: refused.error, error_description: refused.errorDescription }, 403, { ...refused.headers, 'Cache-Control': 'no-store' });
    }

    // 4. The MCP transport, with the verified Passport as authInfo (the tools' `extra.authInfo`).
    const mcp = createNotesMcpServer(toolDeps);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await mcp.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw, {
        parsedBody: body,
        authInfo: { token: tokenOf(c.req.header('authorization')), clientId: passport.client_id ?? passport.azp ?? '', scopes: granted, resource: new URL(resource), extra: { passport }, ...(passport.exp !== undefined ? { expiresAt: passport.exp } : {}) },
      });
    } finally {
      await mcp.close();
    }
  });
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((_error, c) => c.json(jsonRpcError(-32603, 'Internal error'), 500));

  server.on('request', getRequestListener(app.fetch));
  return {
    url: `${localOrigin}${mcpPath}`,
    resource,
    metadataUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
