// The consulate command: serve, check, mapping explain, policy explain, keys (rotate, list), secret (generate, hash),
// agent (list, show, create, suspend, resume, retire), delegation (list, revoke).
import { Command } from 'commander';
import { registerAgentCommands } from './agents.ts';
import { registerDelegationCommands } from './delegations.ts';
import { registerKeysCommands } from './keys.ts';
import { registerMappingCommands } from './mapping.ts';
import { registerPolicyCommands } from './policy.ts';
import { registerSecretCommands } from './secret.ts';
import { checkCommand, configOption, overrideOptions, serveCommand } from './serve.ts';

export async function runCli(argv: string[]): Promise<void> {
  const program = new Command('consulate')
    .description('Consulate: identity gateway for AI agents. Mints Passports for people, services and agents.')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });

  const serve = program.command('serve').description('start the server (embedded SQLite by default; keys generated on first start)');
  configOption(serve);
  overrideOptions(serve);
  serve.option('--demo', 'also start stand-in upstream IdPs for every upstream configured on a loopback http issuer (offline demo)');
  serve.action(serveCommand);

  const check = program.command('check').description('validate the config directory; exit 1 and list every problem as file:line:col  path  message');
  configOption(check);
  check.action(checkCommand);

  registerMappingCommands(program);
  registerPolicyCommands(program);
  registerKeysCommands(program);
  registerSecretCommands(program);
  registerAgentCommands(program);
  registerDelegationCommands(program);
  await program.parseAsync(argv);
}
