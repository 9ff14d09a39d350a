// `consulate agent list | show | create | suspend | resume | retire`: agents are client files of
// kind agent in config/clients/. State changes edit only the `state:` value of the agent's file
// (comments and layout stay), are checked against the whole config before anything is written,
// and append an audit record to the store; a running server applies them by hot reload.
// Retirement is final. Non-agent clients have no lifecycle and are refused.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createReceipts } from '../audit/receipts.ts';
import { relative, resolve } from 'node:path';
import type { Config, Located } from '../config/load.ts';
import type { ClientConfig } from '../config/schema.ts';
import { describeAgent } from './agent-show.ts';
import { createAgentCommand } from './agent-create.ts';
import { checkChange, withState, writeWhole } from './config-edit.ts';
import { fail, loadConfigOrExit, overridesOf, reportProblems, storeOptions, table, withStore, type StoreFlags } from './context.ts';
import { configOption } from './serve.ts';

type AgentState = ClientConfig['state'];

const lifecycle = {
  suspend: { to: 'suspended', event: 'agent.suspended', help: 'suspend an agent: it gets no tokens and its Passports stop introspecting active, until resumed' },
  resume: { to: 'active', event: 'agent.resumed', help: 'resume a suspended agent: it gets tokens again' },
  retire: { to: 'retired', event: 'agent.retired', help: 'retire an agent for good: like suspend, but final (it cannot be resumed)' },
} as const satisfies Record<string, { to: AgentState; event: string; help: string }>;

type Change = keyof typeof lifecycle;

/** The agent `id` of the loaded config; anything else ends the command with what is wrong. */
export function agentOrExit(config: Config, id: string): Located<ClientConfig> {
  const client = config.clients.get(id);
  if (!client) fail(`no client ${id} in ${relative(process.cwd(), resolve(config.dir, 'clients')) || '.'} (see consulate agent list)`);
  if (client.kind !== 'agent') fail(`${id} is a client of kind ${client.kind}, not an agent: only agents have an owner and a lifecycle state (${client.source.file})`);
  return client;
}

async function changeState(change: Change, id: string, flags: StoreFlags): Promise<void> {
  const { to, event } = lifecycle[change];
  const config = loadConfigOrExit(flags);
  const agent = agentOrExit(config, id);
  // 1. What may change: retired is final; the same state again changes nothing.
  if (agent.state === 'retired' && to !== 'retired') fail(`agent ${id} is retired, and retirement is final: it cannot be ${change === 'resume' ? 'resumed' : 'suspended'}. Register a new agent instead (consulate agent create).`);
  if (agent.state === to) {
    process.stdout.write(`agent ${id} is already ${to}; nothing changed\n`);
    return;
  }
  // 2. The new file, checked with the whole config before it is written.
  const file = resolve(agent.source.file);
  let text: string;
  try {
    text = withState(readFileSync(file, 'utf8'), to);
  } catch (error) {
    fail(`${agent.source.file}: ${error instanceof Error ? error.message : String(error)}; edit its state: by hand`);
  }
  const problems = checkChange(config.dir, file, text, { overrides: overridesOf(flags) });
  if (problems.length) reportProblems(problems, `${agent.source.file} was left unchanged`);
  // 3. Both or neither: the store opens before the file changes, and the file is put back if the
  // audit record cannot be written.
  await withStore(config, async (store) => {
    const before = readFileSync(file, 'utf8');
    writeWhole(file, text, 'replace');
    try {
      await createReceipts(store.audit).record({ event, clientId: id, details: { by: 'operator', file: relative(config.dir, file), from: agent.state } });
    } catch (error) {
      writeWhole(file, before, 'replace');
      fail(`could not write the audit record (${error instanceof Error ? error.message : String(error)}); ${agent.source.file} was put back as it was`);
    }
  });
  process.stdout.write(`agent ${id}: ${agent.state} → ${to} (${agent.source.file})\nA running Consulate applies it when it reloads config/ (on its own when it watches the directory; otherwise send it SIGHUP).\n`);
}

/** `consulate agent …` under `agent`, the group command index.ts made (name and description there). */
export function registerAgentCommands(agent: Command): void {
  configOption(agent.command('list').description('list the agents: id, name, owner, state and file'))
    .option('--json', 'print JSON instead of a table')
    .action((flags: { config: string; json?: boolean }) => {
      const config = loadConfigOrExit(flags);
      const agents = [...config.clients.values()].filter((c) => c.kind === 'agent').sort((a, b) => a.client_id.localeCompare(b.client_id));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(agents.map((a) => ({ client_id: a.client_id, name: a.name ?? null, owner: a.owner ?? null, state: a.state, file: a.source.file })), null, 2)}\n`);
        return;
      }
      if (!agents.length) {
        process.stdout.write('no agents yet (register one with consulate agent create)\n');
        return;
      }
      process.stdout.write(`${table([['ID', 'NAME', 'OWNER', 'STATE', 'FILE'], ...agents.map((a) => [a.client_id, a.name ?? '-', a.owner ?? '-', a.state, a.source.file])])}\n`);
    });

  configOption(agent.command('show').argument('<client_id>', 'the agent').description('show an agent: owner, state, credentials and its delegation policy in words'))
    .action((id: string, flags: { config: string }) => {
      const config = loadConfigOrExit(flags);
      process.stdout.write(describeAgent(config, agentOrExit(config, id)));
    });

  createAgentCommand(agent);

  for (const change of Object.keys(lifecycle) as Change[]) {
    storeOptions(agent.command(change).argument('<client_id>', 'the agent').description(lifecycle[change].help)).action((id: string, flags: StoreFlags) => changeState(change, id, flags));
  }
}
