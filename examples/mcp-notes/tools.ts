// The notes tools, as an MCP server of the official SDK. The HTTP layer (server.ts) has verified the
// Passport and the tool's scope already; the handlers get it as `extra.authInfo`. Tools that reach
// the downstream API never forward the Passport they received (its audience is this server): they
// exchange it (RFC 8693) for a Passport for the downstream API with only the scope the call needs.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ConsulateOAuthError, type AgentClient, type Passport } from '../../src/sdk/index.ts';
import { toolScopes } from './scopes.ts';

export type ToolDeps = {
  agent: AgentClient;
  downstream: { url: string; resource: string };
  fetch: typeof fetch;
  /** How long an exchange may wait for a person's approval (a consent policy), in ms. */
  approvalTimeoutMs: number;
};

const text = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });
const failure = (message: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: message }] });
const needs = (tool: string) => `Needs the scope ${(toolScopes[tool] ?? []).join(' ')}.`;

function passportOf(authInfo: AuthInfo | undefined): Passport {
  const passport = authInfo?.extra?.passport as Passport | undefined;
  // Only reachable if the HTTP layer were bypassed: refuse rather than act for nobody.
  if (!passport) throw new Error('no verified Passport on this request');
  return passport;
}

/**
 * Exchanges the caller's Passport and calls the downstream API; every failure is a tool error, never
 * a thrown one. `tool`: a write names the tool and its arguments in the exchange (an authorization
 * detail of the demo API's `tool` type), so a person asked to approve it sees what it would write.
 */
async function callDownstream(
  deps: ToolDeps,
  authInfo: AuthInfo | undefined,
  call: { method: 'GET' | 'POST'; scope: string; body?: unknown; tool?: { name: string; arguments: Record<string, string | number | boolean> } },
  signal: AbortSignal,
): Promise<CallToolResult> {
  if (!authInfo) return failure('no Passport');
  let token: string;
  try {
    const exchanged = await deps.agent.exchange(authInfo.token, {
      resource: deps.downstream.resource,
      scope: call.scope,
      ...(call.tool ? { authorizationDetails: [{ type: 'tool', tool: call.tool.name, actions: ['call'], arguments: call.tool.arguments }] } : {}),
      signal: AbortSignal.any([signal, AbortSignal.timeout(deps.approvalTimeoutMs)]),
    });
    token = exchanged.access_token;
  } catch (error) {
    // The OAuth error (e.g. a revoked or expired subject token: invalid_request) is safe to show;
    // anything else (network, timeout) only as a class, so no internals reach the client.
    if (error instanceof ConsulateOAuthError) return failure(`Consulate refused the token exchange: ${error.code}${error.description ? ` (${error.description})` : ''}`);
    return failure('Consulate could not be reached, or the approval did not come in time');
  }
  try {
    const response = await deps.fetch(`${deps.downstream.url}/data`, {
      method: call.method,
      headers: { authorization: `Bearer ${token}`, ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    const answer: unknown = await response.json().catch(() => undefined);
    if (!response.ok) return failure(`the downstream API answered ${response.status}${typeof (answer as { error?: unknown })?.error === 'string' ? ` ${(answer as { error: string }).error}` : ''}`);
    return text(answer);
  } catch {
    return failure('the downstream API could not be reached');
  }
}

/** A fresh server per request (stateless streamable HTTP): the tools hold no state between calls. */
export function createNotesMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer({ name: 'consulate-notes', version: '0.1.0' });

  server.registerTool('whoami', { title: 'Who am I', description: `Who this server acts for: the Passport's sub, act and client_id. ${needs('whoami')}` }, (extra) => {
    const passport = passportOf(extra.authInfo);
    return text({ sub: passport.sub, act: passport.act ?? null, client_id: passport.client_id ?? null, scope: passport.scope ?? '' });
  });

  server.registerTool('list_notes', { title: 'List notes', description: `Lists the notes kept by the demo API, read on your behalf. ${needs('list_notes')}` }, (extra) =>
    callDownstream(deps, extra.authInfo, { method: 'GET', scope: 'read-data' }, extra.signal),
  );

  server.registerTool(
    'add_note',
    { title: 'Add a note', description: `Adds a note at the demo API in your name. ${needs('add_note')}`, inputSchema: { text: z.string().min(1).max(200).describe('The note, 1-200 characters') } },
    (args, extra) => callDownstream(deps, extra.authInfo, { method: 'POST', scope: 'write-data', body: { text: args.text }, tool: { name: 'add_note', arguments: { text: args.text } } }, extra.signal),
  );

  return server;
}
