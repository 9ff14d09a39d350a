// The approval inbox: what each open request asks, in words (consent/describe.ts), when it
// expires, and for dual approvals who has approved so far; Approve / Deny forms carrying the CSRF
// token. The same view, as JSON, serves the Bearer API. Only requests this person may decide are
// ever loaded here (consent/inbox.ts), so nothing of anyone else's requests reaches the page.
// Newest first, a page at a time, with how many wait in all and a link to the next page.
// A request that keeps a step-up says what fresh sign-in approving it needs, and whether the
// approver's current one is enough.
import type { Context } from 'hono';
import { approvalsNeeded, type Approver } from '../consent/approvers.ts';
import { inboxFor, type InboxOptions } from '../consent/inbox.ts';
import { describeRequest, personLabel, type RequestWords } from '../consent/describe.ts';
import type { Deps } from '../deps.ts';
import { stepUpOf, stepUpSatisfied, stepUpWords, type Authentication } from '../obligations/step-up.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import { AskWordsView } from './ask-words.tsx';
import { Page, pageHeaders } from './pages.tsx';
import { latestClaimsOf } from '../federation/subjects.ts';

export type ApprovalView = {
  id: string;
  kind: ApprovalRecord['kind'];
  clientId: string;
  words: RequestWords;
  expiresAt: number;
  needed: number;
  /** Who approved so far (e-mail or name), for requests that need more than one approval. */
  approvedBy: string[];
  /** The fresh sign-in approving needs, in words, and whether the approver's authentication meets it. */
  stepUp?: { words: string; met: boolean } | undefined;
};

/** The person represented: "Name (e-mail)". */
async function personName(deps: Deps, sub: string | undefined): Promise<string | undefined> {
  return sub === undefined ? undefined : (personLabel(await latestClaimsOf(deps.store, sub)) ?? sub);
}

/** An approver so far: the e-mail their decision was recorded with, else what their claims say. */
async function approverName(deps: Deps, sub: string, email: string | undefined): Promise<string> {
  if (email) return email;
  const claims = await latestClaimsOf(deps.store, sub);
  return typeof claims.email === 'string' && claims.email ? claims.email : (personLabel(claims) ?? sub);
}

/** A page of the inbox in words: `total` requests wait in all; `nextCursor` leads to the next page. */
export type InboxView = { views: ApprovalView[]; total: number; nextCursor?: string | undefined };

export async function loadInbox(deps: Deps, approver: Approver, authentication?: Authentication, options: InboxOptions = {}): Promise<InboxView> {
  const { records, total, nextCursor } = await inboxFor(deps, approver, options);
  const now = deps.now();
  const views = await Promise.all(
    records.map(async (record): Promise<ApprovalView> => {
      const approvals = record.decisions.filter((d) => d.decision === 'approve');
      const stepUp = stepUpOf(record.request);
      return {
        ...(stepUp ? { stepUp: { words: stepUpWords(stepUp), met: stepUpSatisfied(stepUp, authentication, now) } } : {}),
        id: record.id,
        kind: record.kind,
        clientId: record.clientId,
        // "your" for the person's own request, "their" for someone else's (consent/describe.ts).
        words: describeRequest(deps.config, { kind: record.kind, clientId: record.clientId, request: record.request, person: await personName(deps, record.sub), viewer: record.sub === approver.sub ? 'person' : 'other' }),
        expiresAt: record.expiresAt,
        needed: approvalsNeeded(record.approvers),
        approvedBy: await Promise.all(approvals.map((d) => approverName(deps, d.approverSub, d.approverEmail))),
      };
    }),
  );
  return { views, total, nextCursor };
}

const when = (epoch: number) => `${new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function minutesLeft(epoch: number, now: number): string {
  const minutes = Math.max(0, Math.ceil((epoch - now) / 60));
  return minutes === 1 ? 'in 1 minute' : `in ${minutes} minutes`;
}

export const progressWords = (view: Pick<ApprovalView, 'needed' | 'approvedBy'>): string | undefined =>
  view.needed > 1 ? `${view.approvedBy.length} of ${view.needed} approvals${view.approvedBy.length ? `: ${view.approvedBy.join(', ')}` : ''}` : undefined;

function Request(props: { view: ApprovalView; csrf: string; now: number }) {
  const { view } = props;
  const w = view.words;
  const progress = progressWords(view);
  return (
    <section aria-label={`Request of ${w.client}`} class="card">
      <h2>
        {w.client}
        {w.person ? ` for ${w.person}` : ''}
      </h2>
      {w.through.length ? <p>Through {w.through.join(', ')}</p> : null}
      {w.bindingMessage ? (
        <p>
          Message: <q>{w.bindingMessage}</q>
        </p>
      ) : null}
      <p>It asks to:</p>
      <AskWordsView words={w.ask} level={3} />
      <p class="muted">
        Expires {when(view.expiresAt)} ({minutesLeft(view.expiresAt, props.now)}).
      </p>
      {progress ? <p>{progress}</p> : null}
      {view.stepUp ? (
        <p>
          This needs a fresh sign-in with {view.stepUp.words}.{view.stepUp.met ? '' : ' Approve first takes you to sign in again, then back here.'}
        </p>
      ) : null}
      <form method="post" action={`/approvals/${view.id}`} class="actions">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" name="decision" value="approve">
          Approve
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </form>
    </section>
  );
}

/** How many wait, and how many of them this page shows. */
function countWords(total: number, shown: number, later: boolean): string {
  const waiting = total === 1 ? '1 request is waiting for your decision' : `${total} requests are waiting for your decision`;
  if (!later && shown >= total) return `${waiting}, newest first.`;
  return `${waiting}; ${later ? 'older ones' : `the newest ${shown}`} below.`;
}

/** `later`: this page continues from a cursor (not the newest requests). */
export function inboxPage(c: Context, props: { who: string; csrf: string; inbox: InboxView; later?: boolean | undefined; now: number; notice?: string | undefined; status?: 200 | 400 | 403 | 404 | 409 }) {
  pageHeaders(c);
  const { views, total, nextCursor } = props.inbox;
  return c.html(
    <Page c={c} title="Approvals">
      <p class="signed-in">
        Signed in as <strong>{props.who}</strong>
      </p>
      {props.notice ? <p role={(props.status ?? 200) >= 400 ? 'alert' : 'status'}>{props.notice}</p> : null}
      {total ? <p>{countWords(total, views.length, props.later ?? false)}</p> : null}
      {views.length ? (
        <div class="requests">
          {views.map((view) => (
            <Request view={view} csrf={props.csrf} now={props.now} />
          ))}
        </div>
      ) : total ? null : (
        <p>Nothing is waiting for your approval.</p>
      )}
      {nextCursor || props.later ? (
        <nav aria-label="More requests">
          {nextCursor ? <a href={`/approvals?cursor=${encodeURIComponent(nextCursor)}`}>Show older requests</a> : null}
          {nextCursor && props.later ? ' · ' : null}
          {props.later ? <a href="/approvals">Back to the newest</a> : null}
        </nav>
      ) : null}
      <nav class="links" aria-label="More">
        <a href="/account">Your account</a>
      </nav>
    </Page>,
    props.status ?? 200,
  );
}
