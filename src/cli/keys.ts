import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { keyringOptions, systemClock } from '../deps.ts';
import { createKeyring, signingAlgs, type SigningAlg } from '../passports/keys.ts';
import { openConfiguredStore } from '../main.ts';
import { createReceipts, type Receipts } from '../audit/receipts.ts';
import { operator } from './agents.ts';
import { table } from './context.ts';
import { configOption, reportConfigError, wholeNumber } from './serve.ts';

async function withKeyring<T>(flags: { config: string; dataDir?: string; databaseUrl?: string }, run: (keyring: ReturnType<typeof createKeyring>, activationDelay: number, receipts: Receipts) => Promise<T>): Promise<T> {
  let config;
  try {
    config = loadConfig(flags.config, { overrides: { ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}) } });
  } catch (error) {
    reportConfigError(error);
  }
  // A database out of reach or newer than this code: one line, no stack.
  const store = await openConfiguredStore(config).catch(reportConfigError);
  try {
    const keyring = createKeyring(store.keys, { ...keyringOptions(config), reloadSeconds: 0.05 });
    await keyring.ensureKeys(systemClock());
    return await run(keyring, config.main.keys.activation_delay_seconds, createReceipts(store.audit));
  } finally {
    await store.close();
  }
}

const storeOptions = (command: Command) =>
  configOption(command)
    .option('--data-dir <dir>', 'directory of the embedded database (env CONSULATE_DATA_DIR)')
    .option('--database-url <url>', 'database URL (env CONSULATE_DATABASE_URL)');

/** `consulate keys …` under `keys`, the group command index.ts made (name and description there). */
export function registerKeysCommands(keys: Command): void {
  storeOptions(keys.command('rotate').description('publish a new signing key for each algorithm in use now; it starts signing after the activation delay'))
    .option('--activate-in <seconds>', 'seconds before the new key signs (default: keys.activation_delay_seconds)', wholeNumber)
    .option('--alg <alg>', `only this algorithm (${signingAlgs.join(', ')})`)
    .action(async (flags) => {
      if (flags.alg !== undefined && !signingAlgs.includes(flags.alg)) {
        process.stderr.write(`unknown algorithm ${flags.alg}; use one of ${signingAlgs.join(', ')}\n`);
        process.exit(2);
      }
      await withKeyring(flags, async (keyring, defaultDelay, receipts) => {
        const now = systemClock();
        const delay = flags.activateIn ?? defaultDelay;
        const added = await keyring.rotate(now, delay, flags.alg ? [flags.alg as SigningAlg] : undefined);
        // As the admin API's rotation: a receipt naming who rotated.
        await receipts.record({ event: 'keys.rotated', details: { by: operator(), kids: added.map((k) => k.kid), activates_at: now + delay } });
        for (const key of added) {
          process.stdout.write(`${key.alg}  ${key.kid}  published now, signs from ${new Date(key.activatesAt * 1000).toISOString()}\n`);
        }
      });
    });

  storeOptions(keys.command('list').description('list signing keys and their state (next, current, retired)')).action(async (flags) => {
    await withKeyring(flags, async (keyring) => {
      const rows = (await keyring.status(systemClock())).map((key) => [key.alg, key.kid, key.state, new Date(key.activatesAt * 1000).toISOString()]);
      process.stdout.write(`${table([['ALG', 'KID', 'STATE', 'SIGNS FROM'], ...rows])}\n`);
    });
  });
}
