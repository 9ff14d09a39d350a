// `consulate agent create <client_id> --owner <email> [--name] [--jwks-uri URL | --secret]`: writes
// config/clients/<client_id>.yaml for a new, active agent that may act for nobody yet, with comments
// telling the operator what to fill in. Never replaces a file or an existing client. With --secret
// the secret is generated here and printed once; the file holds only its hash.
// 1 check the arguments  2 the file  3 check it with the whole config  4 write  5 say what next.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Document, isMap, isScalar, isSeq } from 'yaml';
import { generateSecret } from '../clients/secrets.ts';
import { tokenExchangeGrant } from '../oauth/grant-types.ts';
import { checkChange, writeWhole } from './config-edit.ts';
import { fail, loadConfigOrExit, overridesOf, reportProblems } from './context.ts';
import { configOption } from './serve.ts';

type CreateFlags = { config: string; owner: string; name?: string; jwksUri?: string; secret?: boolean };

// Stricter than a client id: it also names the file.
const fileSafeId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const header = (id: string) =>
  [
    ` Agent ${id}, registered with \`consulate agent create\`.`,
    ' Its owner is responsible for it and may revoke its delegations on their account page.',
    ' It can do nothing yet. Fill in `resources` (what it may get Passports for) and',
    ' `delegation` (whom it may act for), then run `consulate check`.',
    ' A running Consulate picks up changes to this file by itself.',
  ].join('\n');

const resourcesHelp = [
  ' Resources (RFC 8707) it may get Passports for, and what it may ask there, e.g.:',
  '   https://api.example.com:',
  '     scopes: [read]',
  '     budget: { uses: 100 }',
].join('\n');

const delegationHelp = [
  ' Whom it may act for: people (canonical e-mail or subject id), groups, or anyone: true.',
  ' subject_token_clients: the apps whose Passports it may exchange for a person (RFC 8693).',
].join('\n');

export function agentFileText(id: string, flags: Omit<CreateFlags, 'config'>, secretHash: string | undefined): string {
  const credentials = flags.jwksUri !== undefined ? { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: flags.jwksUri } : { token_endpoint_auth_method: 'client_secret_basic', secret_hash: secretHash };
  const doc = new Document({
    client_id: id,
    kind: 'agent',
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    owner: flags.owner,
    state: 'active',
    ...credentials,
    grant_types: ['client_credentials', tokenExchangeGrant],
    resources: {},
    delegation: { act_for: { people: [], groups: [] }, subject_token_clients: [], max_chain: 1 },
  });
  doc.commentBefore = header(id);
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (!isScalar(pair.key)) continue;
      if (pair.key.value === 'resources') pair.key.commentBefore = resourcesHelp;
      if (pair.key.value === 'delegation') pair.key.commentBefore = delegationHelp;
      if (pair.key.value === 'grant_types' && isSeq(pair.value)) pair.value.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

async function createAgent(id: string, flags: CreateFlags): Promise<void> {
  // 1.
  if (!fileSafeId.test(id)) fail(`client id "${id}": use letters, digits, dots, dashes and underscores (it also names the file clients/<client_id>.yaml)`, 2);
  if (!emailShape.test(flags.owner)) fail(`--owner "${flags.owner}" is not an e-mail address (the owner's canonical e-mail claim)`, 2);
  if ((flags.jwksUri !== undefined) === Boolean(flags.secret)) fail('say how the agent authenticates: --jwks-uri <url> (private_key_jwt, preferred) or --secret (a generated client secret), one of them', 2);
  const config = loadConfigOrExit(flags);
  const file = join(config.dir, 'clients', `${id}.yaml`);
  const shown = relative(process.cwd(), file);
  const existing = config.clients.get(id);
  if (existing) fail(`a client ${id} already exists (${existing.source.file}); nothing written`);
  if (existsSync(file)) fail(`${shown} already exists; refusing to overwrite it`);
  // 2.
  const secret = flags.secret ? generateSecret() : undefined;
  const text = agentFileText(id, flags, secret?.hash);
  // 3.
  const problems = checkChange(config.dir, file, text, { overrides: overridesOf(flags) });
  if (problems.length) reportProblems(problems, `nothing written to ${shown}`);
  // 4.
  try {
    writeWhole(file, text, 'create');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') fail(`${shown} already exists; refusing to overwrite it`);
    throw error;
  }
  // 5.
  const lines = [`agent ${id} created: ${shown} (active, owner ${flags.owner}, acting for nobody yet)`];
  if (secret) lines.push(`secret: ${secret.secret}`, '  Give it to the agent now: it is shown only this once, and the file holds only its hash.');
  lines.push('Next: fill in its resources and delegation policy in the file, then run consulate check.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function createAgentCommand(agent: Command): void {
  configOption(agent.command('create').argument('<client_id>', 'the new agent\'s client id (also its file name)').description('register a new agent: writes clients/<client_id>.yaml (active, acting for nobody yet)'))
    .requiredOption('--owner <email>', 'e-mail of the person responsible for it (their canonical email claim)')
    .option('--name <name>', 'human-readable name, shown on pages and in logs')
    .option('--jwks-uri <url>', 'it authenticates with private_key_jwt, its public keys at this URL (preferred)')
    .option('--secret', 'it authenticates with a client secret generated now and printed once')
    .action(createAgent);
}
