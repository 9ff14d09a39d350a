// `consulate explain <receipt-id | passport>`: why a token was minted or refused, from its receipt's
// decision trail (audit/trail.ts), in words or --json. A Passport is read for the receipt it names
// (its `receipt` claim), after its signature is checked against the keyring in the database; an
// expired one still verifies (the question is who issued it, not whether it is still good). A
// signature that does not verify is said so, and the receipt is shown for what it is worth.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { chainWords, explainChain, type Chain } from '../audit/explain-chain.ts';
import { explainReceipt, receiptJson, type Explanation, type Names } from '../audit/explain.ts';
import type { Config } from '../config/load.ts';
import { keyringOptions } from '../deps.ts';
import { createKeyring } from '../passports/keys.ts';
import { isCompactJws, verifyPassport } from '../passports/verify.ts';
import type { AuditRecord, Store } from '../store/ports.ts';
import { fail, loadConfigOrExit, storeOptions, withStore, type StoreFlags } from './context.ts';

type PassportFinding = { jti?: string | undefined; receipt: string; verified: boolean; reason?: string | undefined };

const issuerOf = (config: Config): string => config.main.issuer ?? `http://${config.main.listen.host}:${config.main.listen.port}`;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function payloadOf(token: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The receipt a Passport names, and whether the Passport is ours: verified as of its own iat (so an expired one still verifies). */
async function readPassport(config: Config, store: Store, token: string): Promise<PassportFinding> {
  const payload = payloadOf(token);
  if (!payload) fail('not a receipt id, and not a readable Passport (a JWT)', 2);
  if (typeof payload.receipt !== 'string') fail('this token names no receipt (is it a Passport of Consulate?)');
  const iat = typeof payload.iat === 'number' && Number.isFinite(payload.iat) ? payload.iat : Math.floor(Date.now() / 1000);
  const keyring = createKeyring(store.keys, keyringOptions(config));
  const check = await verifyPassport(token, keyring, issuerOf(config), iat);
  return { jti: typeof payload.jti === 'string' ? payload.jti : undefined, receipt: payload.receipt, verified: check.ok, ...(check.ok ? {} : { reason: check.reason }) };
}

async function explain(what: string, flags: StoreFlags & { config: string; json?: boolean }): Promise<void> {
  const input = (what === '-' ? readFileSync(0, 'utf8') : what).trim();
  if (!uuidShape.test(input) && !isCompactJws(input)) fail('give a receipt id (as in the Consulate-Receipt header) or a Passport', 2);
  const config = loadConfigOrExit(flags);
  await withStore(config, async (store) => {
    const passport = uuidShape.test(input) ? undefined : await readPassport(config, store, input);
    const id = passport?.receipt ?? input;
    const record = await store.audit.find(id);
    if (!record) fail(`no receipt ${id} in this database`);
    const namesOf = async (r: AuditRecord): Promise<Names> => {
      const email = r.subject !== undefined ? (await store.subjects.claimsOf(r.subject))?.email : undefined;
      return { person: typeof email === 'string' ? email : undefined };
    };
    const explanation = explainReceipt(record, await namesOf(record));
    // The receipts before it: the tokens it was exchanged from, back to where the chain began (or left for another issuer).
    const chain = await explainChain(record, (id) => store.audit.find(id), namesOf);
    // A Passport and the receipt it names must be about the same token.
    const mismatch = passport?.jti !== undefined && record.tokenJti !== undefined && passport.jti !== record.tokenJti;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...(passport ? { passport: { ...passport, matches_receipt: !mismatch } } : {}), receipt: receiptJson(record), explanation, chain }, null, 2)}\n`);
      return;
    }
    process.stdout.write(words(explanation, passport, mismatch, chain));
  });
}

function words(explanation: Explanation, passport: PassportFinding | undefined, mismatch: boolean, chain: Chain): string {
  const out: string[] = [];
  if (passport) {
    out.push(passport.verified ? `Passport ${passport.jti ?? ''}: signature verified against this Consulate's keys.` : `Passport NOT verified (${passport.reason}): it may not be ours; shown is the receipt it names.`);
    if (mismatch) out.push(`Warning: receipt ${explanation.receipt} is about another token (jti ${passport.jti} is not the one it records).`);
  }
  out.push(`${explanation.summary}.`, `receipt ${explanation.receipt}, ${explanation.event}, at ${explanation.at}`);
  if (explanation.decided) out.push(`decided by: ${explanation.decided.step}${explanation.decided.rule ? ` (${explanation.decided.rule})` : ''}`);
  for (const line of explanation.lines) out.push(`  - ${line}`);
  out.push(...chainWords(chain));
  return `${out.join('\n')}\n`;
}

/** `consulate explain`, on the command index.ts made (its name and description are there). */
export function defineExplainCommand(command: Command): void {
  storeOptions(command)
    .argument('<receipt-or-passport>', 'a receipt id (the Consulate-Receipt header of a token response), a Passport (JWT), or - to read either from standard input')
    .option('--json', 'print the receipt and its explanation as JSON')
    .action(explain);
}
