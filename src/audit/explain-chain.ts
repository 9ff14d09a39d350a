// How a token came about, back through the receipts before its own: a delegated Passport's receipt
// names the receipt of the token it was exchanged from (`subject_receipt`), and a Passport issued
// for an assertion names the assertion's issuer and, for an ID-JAG of another Consulate, its
// receipt there (`assertion_iss`, `assertion_receipt`). Follows those links through this
// Consulate's receipts, newest first, and stops where the chain leaves for another issuer, whose
// receipts only that issuer holds. Reads receipts only; never follows a link twice.
import type { AuditRecord } from '../store/ports.ts';
import { explainReceipt, type Explanation, type Names } from './explain.ts';

/** Where the chain continues at another issuer: its issuer identifier and, when it named one, its receipt id there. */
export type Elsewhere = { issuer: string; trusted_as?: string; kind?: string; receipt?: string };

export type Chain = {
  /** The receipts before this one, here, newest first. */
  earlier: Explanation[];
  /** The chain goes on at another issuer. */
  elsewhere?: Elsewhere;
  /** A receipt named but not in this database (pruned, or another database). */
  missing?: string;
};

/** Links followed at most: longer than any actor chain a policy allows (max_chain ≤ 10), plus the person's own token. */
const maxLinks = 12;

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

export async function explainChain(
  record: AuditRecord,
  find: (id: string) => Promise<AuditRecord | undefined>,
  namesOf: (record: AuditRecord) => Promise<Names> = async () => ({}),
): Promise<Chain> {
  const chain: Chain = { earlier: [] };
  const seen = new Set([record.id]);
  let current = record;
  for (let link = 0; link < maxLinks; link++) {
    const before = str(current.details.subject_receipt);
    if (before === undefined) {
      const issuer = str(current.details.assertion_iss);
      if (issuer !== undefined) {
        const trusted = str(current.details.assertion_issuer);
        const kind = str(current.details.assertion_kind);
        const receipt = str(current.details.assertion_receipt);
        chain.elsewhere = { issuer, ...(trusted ? { trusted_as: trusted } : {}), ...(kind ? { kind } : {}), ...(receipt ? { receipt } : {}) };
      }
      break;
    }
    if (seen.has(before)) break;
    seen.add(before);
    const found = await find(before);
    if (!found) {
      chain.missing = before;
      break;
    }
    chain.earlier.push(explainReceipt(found, await namesOf(found)));
    current = found;
  }
  return chain;
}

/** The chain in words, for the CLI: indented under the receipt it explains. */
export function chainWords(chain: Chain): string[] {
  if (!chain.earlier.length && !chain.elsewhere && !chain.missing) return [];
  const out = ['how it came about (earlier receipts, newest first):'];
  for (const earlier of chain.earlier) {
    out.push(`  ← ${earlier.summary}.`, `    receipt ${earlier.receipt}, ${earlier.event}, at ${earlier.at}`);
    if (earlier.decided) out.push(`    decided by: ${earlier.decided.step}${earlier.decided.rule ? ` (${earlier.decided.rule})` : ''}`);
    for (const line of earlier.lines) out.push(`      - ${line}`);
  }
  if (chain.missing) out.push(`  ← receipt ${chain.missing}: not in this database`);
  if (chain.elsewhere) {
    const e = chain.elsewhere;
    out.push(`  ← ${e.kind === 'id-jag' ? 'an ID-JAG' : 'an assertion'} issued by ${e.issuer}${e.trusted_as ? ` (trusted issuer ${e.trusted_as})` : ''}${e.receipt ? `, its receipt there: ${e.receipt}` : ''}`);
    if (e.receipt) out.push(`    the rest of the chain is in that issuer's receipts: consulate explain ${e.receipt} (run against ${e.issuer}'s database)`);
  }
  return out;
}
