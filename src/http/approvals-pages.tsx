// The approval inbox: what each open request asks, in words (consent/describe.ts), when it
// expires, and for dual approvals who has approved so far; Approve / Deny forms carrying the CSRF
// token. The same view, as JSON, serves the Bearer API. Only requests this person may decide are
// ever loaded here (openApprovalsFor), so nothing of anyone else's requests reaches the page.
// A request that keeps a step-up says what fresh sign-in approving it needs, and whether the
// approver's current one is enough.
import type { Context } from 'hono';
import { approvalsNeeded, type Approver } from '../consent/approvers.ts';
import { openApprovalsFor } from '../consent/approvals.ts';
import { describeRequest, personLabel, type RequestWords } from '../consent/describe.ts';
import type { Deps } from '../deps.ts';
import { stepUpOf, stepUpSatisfied, stepUpWords, type Authentication } from '../obligations/step-up.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import { Page, pageHeaders } from './pages.tsx';

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
  return sub === undefined ? undefined : (personLabel((await deps.store.subjects.claimsOf(sub)) ?? {}) ?? sub);
}

/** An approver so far: the e-mail their decision was recorded with, else what their claims say. */
async function approverName(deps: Deps, sub: string, email: string | undefined): Promise<string> {
  if (email) return email;
  const claims = (await deps.store.subjects.claimsOf(sub)) ?? {};
  return typeof claims.email === 'string' && claims.email ? claims.email : (personLabel(claims) ?? sub);
}

export async function loadInbox(deps: Deps, approver: Approver, authentication?: Authentication): Promise<ApprovalView[]> {
  const records = await openApprovalsFor(deps, approver);
  const now = deps.now();
  return Promise.all(
    records.map(async (record) => {
      const approvals = record.decisions.filter((d) => d.decision === 'approve');
      const stepUp = stepUpOf(record.request);
      return {
        ...(stepUp ? { stepUp: { words: stepUpWords(stepUp), met: stepUpSatisfied(stepUp, authentication, now) } } : {}),
        id: record.id,
        kind: record.kind,
        clientId: record.clientId,
        words: describeRequest(deps.config, { kind: record.kind, clientId: record.clientId, request: record.request, person: await personName(deps, record.sub) }),
        expiresAt: record.expiresAt,
        needed: approvalsNeeded(record.approvers),
        approvedBy: await Promise.all(approvals.map((d) => approverName(deps, d.approverSub, d.approverEmail))),
      };
    }),
  );
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
    <li>
      <section aria-label={`Request of ${w.client}`}>
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
        <ul>
          {w.identity.map((text) => (
            <li>{text}</li>
          ))}
          {w.resource ? (w.asks.length ? w.asks : ['access it']).map((text) => <li>{`${text} on ${w.resource}`}</li>) : null}
          {!w.identity.length && !w.resource ? <li>act for the person</li> : null}
        </ul>
        <p>
          Expires {when(view.expiresAt)} ({minutesLeft(view.expiresAt, props.now)}).
        </p>
        {progress ? <p>{progress}</p> : null}
        {view.stepUp ? (
          <p>
            This needs a fresh sign-in with {view.stepUp.words}.{view.stepUp.met ? '' : ' Approve first takes you to sign in again, then back here.'}
          </p>
        ) : null}
        <form method="post" action={`/approvals/${view.id}`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" name="decision" value="approve">
            Approve
          </button>
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </form>
      </section>
    </li>
  );
}

export function inboxPage(c: Context, props: { who: string; csrf: string; views: ApprovalView[]; now: number; notice?: string | undefined; status?: 200 | 400 | 403 | 404 | 409 }) {
  pageHeaders(c);
  return c.html(
    <Page title="Approvals">
      <p>
        Signed in as <strong>{props.who}</strong>.
      </p>
      {props.notice ? <p role="status">{props.notice}</p> : null}
      {props.views.length ? (
        <ul>
          {props.views.map((view) => (
            <Request view={view} csrf={props.csrf} now={props.now} />
          ))}
        </ul>
      ) : (
        <p>Nothing is waiting for your approval.</p>
      )}
      <p>
        <a href="/account">Your account</a>
      </p>
    </Page>,
    props.status ?? 200,
  );
}
