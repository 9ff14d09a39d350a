// `npm run example:mcp-client [-- note text]`: an MCP client of the notes server (`npm run
// example:mcp`) against the Consulate of `npm start`. It registers itself with Consulate, prints
// the address to sign in at, waits for the browser to come back to http://127.0.0.1:8094/callback,
// then calls whoami and list_notes, and add_note when given a text.
import { connectNotesClient } from './client.ts';

const serverUrl = process.env.NOTES_MCP_URL ?? 'http://127.0.0.1:8092/mcp';
const note = process.argv.slice(2).join(' ').trim();

const show = (result: unknown) => {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((part) => part.text ?? `[${part.type}]`).join('\n');
};

try {
  const client = await connectNotesClient({
    serverUrl,
    callbackPort: Number(process.env.NOTES_CLIENT_CALLBACK_PORT ?? 8094),
    openBrowser: (url) => console.log(`\nOpen this address in your browser and sign in (e.g. alice@example.com, any password):\n\n  ${url.href}\n`),
  });
  console.log(`whoami:\n${show(await client.callTool('whoami'))}\n`);
  console.log(`list_notes:\n${show(await client.callTool('list_notes'))}\n`);
  if (note) console.log(`add_note:\n${show(await client.callTool('add_note', { text: note }))}\n`);
  await client.close();
} catch (error) {
  console.error(`The MCP client stopped: ${error instanceof Error ? error.message : String(error)}`);
  console.error(`Is the notes MCP server running (npm run example:mcp) and Consulate (npm start)?`);
  process.exitCode = 1;
}
