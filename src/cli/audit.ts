// `consulate audit verify | export | checkpoint`: the receipt chain for auditors. verify walks the
// chain in the database (or an exported file, offline, against a JWKS) and names the first broken
// link; export streams receipts as JSON Lines with a signed checkpoint; checkpoint signs the head.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { signCheckpoint, verifyCheckpoint } from '../audit/checkpoint.ts';
import { checkpointLine, exportLine, isFiltered, matches, parseExportLine, type ExportFilter } from '../audit/export.ts';
import { storedChain, storedRecords, walkChain, type ChainReport } from '../audit/verify.ts';
import type { Config } from '../config/load.ts';
import { keyringOptions, systemClock } from '../deps.ts';
import { createKeyring } from '../passports/keys.ts';
import type { AuditRecord, Store } from '../store/ports.ts';
import { fail, loadConfigOrExit, storeOptions, withStore, type StoreFlags } from './context.ts';

const issuerOf = (config: Config): string => config.main.issuer ?? `http://${config.main.listen.host}:${config.main.listen.port}`;

/** A checkpoint over `head`, signed with the key Passports are signed with now. */
async function checkpointFor(config: Config, store: Store, head: { seq: number; hash: string }): Promise<string> {
  const now = systemClock();
  const keyring = createKeyring(store.keys, { ...keyringOptions(config), reloadSeconds: 0.05 });
  await keyring.ensureKeys(now);
  return signCheckpoint(await keyring.signingKey(config.main.passports.signing_alg, now), issuerOf(config), head, now);
}

const describeReport = (report: ChainReport): string =>
  report.last ? `${report.checked} receipt(s), seq ${report.first?.seq}..${report.last.seq}, last hash ${report.last.hash}` : 'no receipts';

/** A time as an ISO date or epoch seconds. */
function parseTime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) fail(`not a time: ${value} (use an ISO date such as 2026-12-01T00:00:00Z, or epoch seconds)`, 2);
  return ms;
}

async function verifyDatabase(flags: StoreFlags & { config: string }): Promise<void> {
  const config = loadConfigOrExit(flags);
  await withStore(config, async (store) => {
    const started = Date.now();
    const report = await walkChain(storedChain(store.audit));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (report.broken) fail(`chain broken at seq ${report.broken.seq} (receipt ${report.broken.id}): ${report.broken.reason}; ${report.checked} receipt(s) before it hold`);
    process.stdout.write(`chain OK: ${describeReport(report)} (${seconds} s)\n`);
  });
}

async function loadJwks(where: string): Promise<JSONWebKeySet> {
  try {
    const text = /^https?:\/\//.test(where) ? await (await fetch(where, { signal: AbortSignal.timeout(10_000) })).text() : readFileSync(where, 'utf8');
    const jwks = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error('no "keys" array');
    return jwks;
  } catch (error) {
    return fail(`cannot read the JWKS at ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Offline: the file's chain, then its checkpoint against the JWKS; no database. */
async function verifyFile(file: string, jwksAt: string | undefined, issuer: string | undefined): Promise<void> {
  const checkpoints: string[] = [];
  let lineNo = 0;
  async function* records(): AsyncGenerator<AuditRecord> {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      let parsed;
      try {
        parsed = parseExportLine(line);
      } catch (error) {
        fail(`${file}:${lineNo}: not an exported receipt: ${error instanceof Error ? error.message : String(error)}`);
      }
      if ('checkpoint' in parsed) checkpoints.push(parsed.checkpoint);
      else yield parsed.record;
    }
  }
  const report = await walkChain(records()).catch((error: NodeJS.ErrnoException) => fail(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`));
  if (report.broken) fail(`chain broken at seq ${report.broken.seq} (receipt ${report.broken.id}): ${report.broken.reason}; ${report.checked} receipt(s) before it hold`);
  if (!report.last) fail(`${file} holds no receipts`);
  const checkpoint = checkpoints.at(-1);
  if (!checkpoint) fail(`the chain of ${file} holds (${describeReport(report)}), but it carries no signed checkpoint (a filtered export): nothing ties it to the issuer's chain`);
  if (!jwksAt) fail(`the chain of ${file} holds (${describeReport(report)}); give --jwks <url or file> to verify its signed checkpoint`);
  const signed = await verifyCheckpoint(checkpoint, await loadJwks(jwksAt), issuer).catch((error: unknown) => fail(`the checkpoint of ${file} does not verify: ${error instanceof Error ? error.message : String(error)}`));
  if (signed.seq !== report.last.seq || signed.hash !== report.last.hash) fail(`the checkpoint signs seq ${signed.seq} with hash ${signed.hash}, but the file ends at seq ${report.last.seq} with hash ${report.last.hash}: the file was changed after export`);
  process.stdout.write(`chain OK: ${describeReport(report)}; checkpoint signed by ${signed.iss} at ${new Date(signed.iat * 1000).toISOString()} verifies\n`);
}

type ExportFlags = StoreFlags & { config: string; since?: string; until?: string; client?: string; sub?: string; did?: string; format: string };

async function exportReceipts(flags: ExportFlags): Promise<void> {
  if (flags.format !== 'jsonl') fail(`unknown format ${flags.format}: only jsonl`, 2);
  const time: ExportFilter = { sinceMs: flags.since ? parseTime(flags.since) : undefined, untilMs: flags.until ? parseTime(flags.until) : undefined };
  const chosen: ExportFilter = { clientId: flags.client, subject: flags.sub, did: flags.did };
  const config = loadConfigOrExit(flags);
  await withStore(config, async (store) => {
    const out = process.stdout;
    const write = (line: string) => (out.write(`${line}\n`) ? undefined : new Promise<void>((resolveDrain) => out.once('drain', resolveDrain)));
    // A time range is one unbroken stretch of the chain (from the first receipt at or after --since
    // to the last before --until), so it still verifies; --client, --sub and --did pick receipts out.
    let started = false;
    let last: AuditRecord | undefined;
    for await (const record of storedRecords(store.audit)) {
      if (!started && time.sinceMs !== undefined && record.atMs < time.sinceMs) continue;
      started = true;
      if (time.untilMs !== undefined && record.atMs >= time.untilMs) break;
      if (!matches(record, chosen)) continue;
      await write(exportLine(record));
      last = record;
    }
    if (last && !isFiltered(chosen)) await write(checkpointLine(await checkpointFor(config, store, last)));
  });
}

export function registerAuditCommands(audit: Command): void {
  storeOptions(audit.command('verify').description('walk the receipt chain and report the first broken or missing link (exit 1); --file checks an export offline'))
    .option('--file <export.jsonl>', 'verify an exported file instead of the database (no database needed)')
    .option('--jwks <url-or-file>', "the issuer's JWKS (e.g. https://id.example.com/jwks), to verify the export's signed checkpoint")
    .option('--issuer <url>', 'also require the checkpoint to be signed by this issuer')
    .action(async (flags) => (flags.file ? verifyFile(flags.file, flags.jwks, flags.issuer) : verifyDatabase(flags)));

  storeOptions(audit.command('export').description('stream receipts with their hashes as JSON Lines (stdout); unfiltered exports end with a signed checkpoint'))
    .option('--since <time>', 'from this time (ISO date or epoch seconds)')
    .option('--until <time>', 'before this time (ISO date or epoch seconds)')
    .option('--client <client_id>', 'only receipts of this client (no checkpoint: a pick is not a stretch of the chain)')
    .option('--sub <subject>', 'only receipts about this person (no checkpoint)')
    .option('--did <delegation-id>', 'only receipts of this delegation (no checkpoint)')
    .option('--format <format>', 'jsonl', 'jsonl')
    .action(exportReceipts);

  storeOptions(audit.command('checkpoint').description("sign the chain's head now and print the checkpoint (a JWT; verify it against the JWKS)")).action(async (flags) => {
    const config = loadConfigOrExit(flags);
    await withStore(config, async (store) => {
      const head = await store.audit.head();
      if (!head) fail('the receipt chain is empty: nothing to sign');
      process.stdout.write(`${await checkpointFor(config, store, head)}\n`);
    });
  });
}
