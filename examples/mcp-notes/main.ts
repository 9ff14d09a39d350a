// `npm run example:mcp`: the notes MCP server on http://127.0.0.1:8092/mcp against the Consulate
// of `npm start` (CONSULATE_ISSUER, default http://localhost:8080), calling the demo API it runs
// on 127.0.0.1:8091. The credentials are the demo's (config/clients/notes-mcp-server.yaml): public on purpose.
import { startNotesMcpServer } from './server.ts';

const issuer = process.env.CONSULATE_ISSUER ?? 'http://localhost:8080';
const running = await startNotesMcpServer({
  issuer,
  resource: 'http://127.0.0.1:8092/mcp',
  host: '127.0.0.1',
  port: 8092,
  downstream: { url: 'http://127.0.0.1:8091', resource: 'https://api.demo.example' },
  agent: { clientId: 'notes-mcp-server', clientSecret: 's4b2HnAkxga344gY12B7tQoqVKBeoaT0sq5pNslNg2M' },
});
console.log(`Notes MCP server: ${running.url} (Passports from ${issuer})`);
console.log(`  metadata: ${running.metadataUrl}`);
console.log('  tools: whoami, list_notes (notes:read), add_note (notes:write)');

const stop = () => void running.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
