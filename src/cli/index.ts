// The consulate command: serve, check, mapping explain, policy explain, keys (rotate, list), secret (generate, hash),
// agent (list, show, create, suspend, resume, retire), delegation (list, revoke), audit (verify, export,
// checkpoint), explain, db (migrate-to).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

type Define = (command: Command) => Promise<void>;

/**
 * The top-level commands: name, one line of help, and how to define the rest (options, subcommands,
 * action). Only the command being run is defined in full, so `consulate --help`, `--version` and a
 * quick command do not load the server, the config loader and the store just to start.
 */
const commands: { name: string; description: string; define: Define }[] = [
  {
    name: 'serve',
    description: 'start the server (embedded SQLite by default; keys generated on first start)',
    async define(serve) {
      const { configOption, overrideOptions, serveCommand } = await import('./serve.ts');
      configOption(serve);
      overrideOptions(serve);
      serve.option('--demo', 'also start stand-in upstream IdPs for every upstream configured on a loopback http issuer (offline demo)');
      serve.action(serveCommand);
    },
  },
  {
    name: 'check',
    description: 'validate the config directory; exit 1 and list every problem as file:line:col  path  message',
    async define(check) {
      const { checkCommand, configOption } = await import('./serve.ts');
      configOption(check);
      check.action(checkCommand);
    },
  },
  { name: 'mapping', description: 'claims mapping rule sets', define: async (c) => (await import('./mapping.ts')).registerMappingCommands(c) },
  { name: 'policy', description: 'policies: obligations at issuance (config/policies/)', define: async (c) => (await import('./policy.ts')).registerPolicyCommands(c) },
  { name: 'keys', description: 'manage signing keys', define: async (c) => (await import('./keys.ts')).registerKeysCommands(c) },
  { name: 'secret', description: 'client secrets: configs hold only their hashes', define: async (c) => (await import('./secret.ts')).registerSecretCommands(c) },
  { name: 'agent', description: 'AI agents (clients of kind agent): list, show, create, suspend, resume, retire', define: async (c) => (await import('./agents.ts')).registerAgentCommands(c) },
  { name: 'delegation', description: "delegations: people's Passports exchanged by agents (list, revoke)", define: async (c) => (await import('./delegations.ts')).registerDelegationCommands(c) },
  { name: 'audit', description: 'the receipt chain: verify (also an export, offline), export (JSON Lines), checkpoint (sign the head)', define: async (c) => (await import('./audit.ts')).registerAuditCommands(c) },
  { name: 'explain', description: 'why a token was minted or refused: a receipt id (Consulate-Receipt header) or a Passport, in words or --json', define: async (c) => (await import('./explain.ts')).defineExplainCommand(c) },
  { name: 'db', description: 'the database as a whole: migrate-to (copy the embedded SQLite database into PostgreSQL)', define: async (c) => (await import('./db.ts')).registerDbCommands(c) },
];

/** package.json's version (the file is two levels up from both src/cli/ and dist/cli/). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The command `argv` runs (`consulate help <command>` included); the program takes no option with a value. */
function invoked(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

export async function runCli(argv: string[]): Promise<void> {
  const program = new Command('consulate')
    .description('Consulate: identity gateway for AI agents. Mints Passports for people, services and agents.')
    .version(version(), '-V, --version', 'print the version of consulate')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });

  const running = invoked(argv);
  for (const { name, description, define } of commands) {
    const command = program.command(name).description(description);
    if (name === running) await define(command);
  }
  await program.parseAsync(argv);
}
