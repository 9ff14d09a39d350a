// `consulate agent list | show | create | suspend | resume | retire`: agents are client files of
// kind agent in config/clients/. Suspend, resume and retire change the agent's runtime state in the
// database the config names (agents/lifecycle.ts, the service the account page and admin API share),
// never its file: every node sharing the database applies it to its very next request, and the
// change is a receipt naming the operator. The file's `state:` stays the declared default.
// Retirement is final. Non-agent clients have no lifecycle and are refused.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { relative, resolve } from 'node:path';
import { changeAgentState, ReceiptNotWrittenError, type LifecycleChange } from '../agents/lifecycle.ts';
import { effectiveState, type EffectiveState } from '../agents/state.ts';
import { createReceipts } from '../audit/receipts.ts';
import type { Config, Located } from '../config/load.ts';
import type { ClientConfig } from '../config/schema.ts';
import { systemClock } from '../deps.ts';
import { databaseUrlFor } from '../store/open.ts';
import type { AgentStateRecord } from '../store/ports.ts';
import { describeAgent } from './agent-show.ts';
import { createAgentCommand } from './agent-create.ts';
import { fail, loadConfigOrExit, storeOptions, table, withStore, type StoreFlags } from './context.ts';

const help: Record<LifecycleChange, string> = {
  suspend: 'suspend an agent: from its next request on, on every node sharing the database, it gets no tokens and its Passports stop introspecting active, until resumed (its file is not changed)',
  resume: 'resume a suspended agent: it gets tokens again on every node (its file is not changed)',
  retire: 'retire an agent for good: like suspend, but final (it cannot be resumed; its file is not changed)',
};

/** The agent `id` of the loaded config; anything else ends the command with what is wrong. */
export function agentOrExit(config: Config, id: string): Located<ClientConfig> {
  const client = config.clients.get(id);
  if (!client) fail(`no client ${id} in ${relative(process.cwd(), resolve(config.dir, 'clients')) || '.'} (see consulate agent list)`);
  if (client.kind !== 'agent') fail(`${id} is a client of kind ${client.kind}, not an agent: only agents have an owner and a lifecycle state (${client.source.file})`);
  return client;
}

/** Who runs the command, for the receipt and the row: operator:cli and the OS user when there is one. */
export function operator(): string {
  try {
    const { username } = userInfo();
    return username ? `operator:cli:${username}` : 'operator:cli';
  } catch {
    return 'operator:cli';
  }
}

async function changeState(change: LifecycleChange, id: string, flags: StoreFlags): Promise<void> {
  const config = loadConfigOrExit(flags);
  const agent = agentOrExit(config, id);
  const result = await withStore(config, (store) =>
    changeAgentState({ config, store, receipts: createReceipts(store.audit), now: systemClock }, id, change, operator()).catch((error: unknown) => {
      if (error instanceof ReceiptNotWrittenError) fail(error.message);
      throw error;
    }),
  );
  switch (result.status) {
    case 'changed':
      process.stdout.write(`agent ${id}: ${result.from} → ${result.record.state}\nSet in the database: every Consulate on it applies it to its next request (${agent.source.file} is unchanged).\n`);
      return;
    case 'unchanged':
      process.stdout.write(`agent ${id} is already ${result.state}; nothing changed\n`);
      return;
    case 'retired':
      return fail(`agent ${id} is retired, and retirement is final: it cannot be ${change === 'resume' ? 'resumed' : 'suspended'}. Register a new agent instead (consulate agent create).`);
    case 'unknown':
    case 'not_agent':
      // agentOrExit refused these already; the config cannot have changed in between.
      return fail(`${id} is not an agent`);
  }
}

/**
 * The runtime state rows of the database the config names. A SQLite file that does not exist yet
 * holds none, and a listing must not create it.
 */
async function runtimeStates(config: Config): Promise<Map<string, AgentStateRecord>> {
  const url = databaseUrlFor(config.main.data_dir, config.main.database_url);
  if (url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length))) return new Map();
  return withStore(config, async (store) => new Map((await store.agentStates.list()).map((r) => [r.clientId, r])));
}

const fromWords = (state: EffectiveState) => (state.source === 'runtime' ? 'database' : 'file');

/** `consulate agent …` under `agent`, the group command index.ts made (name and description there). */
export function registerAgentCommands(agent: Command): void {
  storeOptions(agent.command('list').description('list the agents: id, name, owner, the state in force and where it is set (database or file), and file'))
    .option('--json', 'print JSON instead of a table')
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      const config = loadConfigOrExit(flags);
      const agents = [...config.clients.values()].filter((c) => c.kind === 'agent').sort((a, b) => a.client_id.localeCompare(b.client_id));
      const records = agents.length ? await runtimeStates(config) : new Map<string, AgentStateRecord>();
      const rows = agents.map((a) => ({ agent: a, state: effectiveState(a.state, records.get(a.client_id)) }));
      if (flags.json) {
        const json = rows.map(({ agent: a, state }) => ({ client_id: a.client_id, name: a.name ?? null, owner: a.owner ?? null, state: state.state, state_from: fromWords(state), file_state: a.state, file: a.source.file }));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      if (!rows.length) {
        process.stdout.write('no agents yet (register one with consulate agent create)\n');
        return;
      }
      process.stdout.write(`${table([['ID', 'NAME', 'OWNER', 'STATE', 'FROM', 'FILE'], ...rows.map(({ agent: a, state }) => [a.client_id, a.name ?? '-', a.owner ?? '-', state.state, fromWords(state), a.source.file])])}\n`);
    });

  storeOptions(agent.command('show').argument('<client_id>', 'the agent').description('show an agent: owner, the state in force (and where it is set), credentials and its delegation policy in words'))
    .action(async (id: string, flags: StoreFlags) => {
      const config = loadConfigOrExit(flags);
      const found = agentOrExit(config, id);
      const state = effectiveState(found.state, (await runtimeStates(config)).get(id));
      process.stdout.write(describeAgent(config, found, state));
    });

  createAgentCommand(agent);

  for (const change of Object.keys(help) as LifecycleChange[]) {
    storeOptions(agent.command(change).argument('<client_id>', 'the agent').description(help[change])).action((id: string, flags: StoreFlags) => changeState(change, id, flags));
  }
}
