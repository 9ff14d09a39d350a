// The MCP stack the MCP tests run against: a Consulate with a stand-in Okta, the committed demo
// config of the notes MCP server (its resource moved to a free port), the demo API downstream, and
// the example MCP server itself. `mainYaml` gets the resource and returns what to append to the
// fixture's consulate.yaml (which MCP clients to accept).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startNotesMcpServer, type NotesMcpServer } from '../../../examples/mcp-notes/server.ts';
import { startDemoApi, type DemoApi } from '../../../src/demo/demo-api.ts';
import { startWithOkta } from './authorize.ts';
import { freePort } from './browser.ts';
import type { TestConsulate } from './consulate.ts';
import { api } from './delegation.ts';
import type { Upstream } from './upstreams.ts';

const root = resolve(import.meta.dirname, '../../..');
export const committed = (path: string) => readFileSync(resolve(root, path), 'utf8');

/** The notes MCP server's demo secret (config/clients/notes-mcp-server.yaml, published in the README). */
export const notesServerSecret = 's4b2HnAkxga344gY12B7tQoqVKBeoaT0sq5pNslNg2M';

export type NotesStack = { server: TestConsulate; okta: Upstream; demoApi: DemoApi; notes: NotesMcpServer; resource: string; stop(): Promise<void> };

export async function startNotesStack(mainYaml: (resource: string) => string, files: Record<string, string> = {}): Promise<NotesStack> {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  const movePort = (text: string) => text.replaceAll('http://127.0.0.1:8092/mcp', resource);
  const { server, okta, stop } = await startWithOkta({
    files: {
      'consulate.yaml': `${committed('test/fixtures/config/consulate.yaml')}\n${mainYaml(resource)}`,
      'resources/mcp-notes.yaml': movePort(committed('config/resources/mcp-notes.yaml')),
      'clients/notes-mcp-server.yaml': movePort(committed('config/clients/notes-mcp-server.yaml')),
      ...files,
    },
  });
  const demoApi = await startDemoApi({ issuer: server.issuer, resource: api });
  const notes = await startNotesMcpServer({ issuer: server.issuer, resource, port, downstream: { url: demoApi.url, resource: api }, agent: { clientId: 'notes-mcp-server', clientSecret: notesServerSecret } });
  return {
    server,
    okta,
    demoApi,
    notes,
    resource,
    async stop() {
      await notes.close();
      await demoApi.close();
      await stop();
    },
  };
}
