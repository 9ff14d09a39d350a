// Receipts on the account pages: "what did this agent do on my behalf". For a delegation, the newest
// receipts that name its did (the Passports issued under it, usage, its revocation); for one receipt,
// its explanation (audit/explain.ts, as GET /receipts/<id> gives it as JSON) as a page. A receipt is
// shown to its subject and to the owner of its client; anyone else gets 404, as for an unknown id.
import type { Context } from 'hono';
import type { Deps } from '../deps.ts';
import { explainReceipt } from '../audit/explain.ts';
import { findReceipt } from '../audit/find.ts';
import type { SessionRecord } from '../store/ports.ts';
import { ownedAgents } from './account-owner.ts';
import { ExplanationView } from './explanation-view.tsx';
import { errorPage, Page, pageHeaders } from './pages.tsx';

/** At most this many receipts per delegation on the page (newest first). */
export const receiptsPerDelegation = 50;

export type ReceiptRow = { id: string; at: string; summary: string };

export async function delegationReceipts(deps: Deps, did: string): Promise<ReceiptRow[]> {
  const records = await deps.store.audit.listByDid(did, receiptsPerDelegation);
  return records.map((record) => {
    const explained = explainReceipt(record);
    return { id: record.id, at: explained.at.replace(/\.\d{3}Z$/, 'Z').replace('T', ' '), summary: explained.summary };
  });
}

export function ReceiptList(props: { receipts: ReceiptRow[] }) {
  if (!props.receipts.length) return <p class="muted">No receipts yet.</p>;
  return (
    <details>
      <summary>
        What it did: {props.receipts.length === receiptsPerDelegation ? `the newest ${receiptsPerDelegation} receipts` : `${props.receipts.length} receipt${props.receipts.length === 1 ? '' : 's'}`}
      </summary>
      <ul aria-label="Receipts">
        {props.receipts.map((r) => (
          <li>
            <a href={`/account/receipts/${encodeURIComponent(r.id)}`}>{r.at}</a>: {r.summary}
          </li>
        ))}
      </ul>
    </details>
  );
}

export async function accountReceiptPage(deps: Deps, c: Context, session: SessionRecord, id: string): Promise<Response> {
  const record = await findReceipt(deps.store, id);
  const visible = record !== undefined && (record.subject === session.sub || (record.clientId !== undefined && ownedAgents(deps, session.claims).includes(record.clientId)));
  if (!record || !visible) return errorPage(c, 404, 'No such receipt', 'There is no receipt by that id that concerns you.', { href: '/account', text: 'Your account' });
  const name = record.subject === session.sub ? (typeof session.claims.name === 'string' ? session.claims.name : undefined) : undefined;
  const explained = explainReceipt(record, { person: name });
  pageHeaders(c);
  return c.html(
    <Page c={c} title="Receipt">
      <ExplanationView explained={explained} />
      <nav class="links" aria-label="More">
        <a href="/account">Your account</a>
      </nav>
    </Page>,
  );
}
