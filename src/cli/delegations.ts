// `consulate delegation list | revoke`: the operator's view of delegations (a person's Passport
// exchanged by an agent) in the store the config names. Revoking one revokes every Passport minted
// under it, down the whole chain, and writes a `delegation.revoked` audit record (by operator).
import type { Command } from 'commander';
import { formatAmount } from '../delegation/budget.ts';
import { createReceipts } from '../audit/receipts.ts';
import { revokeDelegation } from '../delegation/revoke.ts';
import { systemClock } from '../deps.ts';
import type { DelegationRecord } from '../store/ports.ts';
import { fail, isoDate, loadConfigOrExit, storeOptions, table, withStore, type StoreFlags } from './context.ts';
import { wholeNumber } from './serve.ts';
import { operator } from './agents.ts';

type ListFlags = StoreFlags & { sub?: string; agent?: string; json?: boolean; limit?: number };

function budgetText(record: DelegationRecord): string {
  const { budget, used } = record;
  if (!budget) return '-';
  const parts = [];
  if (budget.uses !== undefined) parts.push(`${used.uses}/${budget.uses} uses`);
  if (budget.amountMicros !== undefined) parts.push(`${formatAmount(used.amountMicros)}/${formatAmount(budget.amountMicros)} ${budget.currency ?? ''}`.trimEnd());
  return parts.join(', ');
}

const stateOf = (record: DelegationRecord) => (record.revokedAt !== undefined ? `revoked by ${record.revokedBy ?? '?'}` : 'live');

function asJson(record: DelegationRecord) {
  const { budget, used } = record;
  return {
    did: record.did,
    sub: record.sub,
    agent: record.clientId,
    resource: record.resource ?? null,
    origin: record.origin,
    created_at: isoDate(record.createdAt),
    expires_at: isoDate(record.expiresAt),
    revoked_at: record.revokedAt !== undefined ? isoDate(record.revokedAt) : null,
    revoked_by: record.revokedBy ?? null,
    budget: budget
      ? {
          ...(budget.uses !== undefined ? { uses: budget.uses, used_uses: used.uses } : {}),
          ...(budget.amountMicros !== undefined ? { amount: formatAmount(budget.amountMicros), used_amount: formatAmount(used.amountMicros), currency: budget.currency } : {}),
        }
      : null,
  };
}

async function listDelegations(flags: ListFlags): Promise<void> {
  const config = loadConfigOrExit(flags);
  if (flags.agent !== undefined && !config.clients.has(flags.agent)) process.stderr.write(`note: no client ${flags.agent} in the config (listing its delegations anyway)\n`);
  const filter = { ...(flags.sub !== undefined ? { sub: flags.sub } : {}), ...(flags.agent !== undefined ? { clientIds: [flags.agent] } : {}), limit: flags.limit ?? 100 };
  const records = await withStore(config, (store) => store.delegations.list(filter, systemClock()));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(records.map(asJson), null, 2)}\n`);
    return;
  }
  if (!records.length) {
    process.stdout.write('no unexpired delegations match\n');
    return;
  }
  const rows = records.map((r) => [r.did, r.clientId, r.sub, r.resource ?? '-', isoDate(r.createdAt), isoDate(r.expiresAt), budgetText(r), stateOf(r)]);
  process.stdout.write(`${table([['DID', 'AGENT', 'SUBJECT', 'RESOURCE', 'SINCE', 'EXPIRES', 'BUDGET USED', 'STATE'], ...rows])}\n`);
}

async function revoke(did: string, flags: StoreFlags): Promise<void> {
  const config = loadConfigOrExit(flags);
  const outcome = await withStore(config, (store) => revokeDelegation(store, createReceipts(store.audit), did, 'operator', { operator: operator() }, systemClock()));
  if (outcome.status === 'unknown') fail(`no delegation ${did} in the store (see consulate delegation list)`);
  if (outcome.status === 'already_revoked') fail(`delegation ${did} was already revoked${outcome.record.revokedAt !== undefined ? ` at ${isoDate(outcome.record.revokedAt)}` : ''}${outcome.record.revokedBy ? ` by ${outcome.record.revokedBy}` : ''}; nothing changed`);
  const { record } = outcome;
  process.stdout.write(`delegation ${did} revoked: ${record.clientId} no longer acts for ${record.sub}${record.resource ? ` at ${record.resource}` : ''}; every Passport minted under it is revoked\n`);
}

/** `consulate delegation …` under `delegation`, the group command index.ts made (name and description there). */
export function registerDelegationCommands(delegation: Command): void {
  storeOptions(delegation.command('list').description('list unexpired delegations, newest first (revoked ones too, marked so)'))
    .option('--sub <sub>', 'only those of this person (local subject id)')
    .option('--agent <client_id>', 'only those made to this agent')
    .option('--limit <n>', 'at most this many (default 100, at most 1000)', wholeNumber)
    .option('--json', 'print JSON instead of a table')
    .action(listDelegations);

  storeOptions(delegation.command('revoke').argument('<did>', 'the delegation id (did claim of its Passports)').description('revoke a delegation and every Passport minted under it, all the way down the chain'))
    .action(revoke);
}
