// Pages of the device flow (RFC 8628 §3.3): the form where a signed-in person types the user
// code, what the device asks in words (as on the consent page) with Approve / Deny, the outcome,
// and the messages for codes that cannot be used. Nothing here says who else entered a code.
import type { Context } from 'hono';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { PersonRequest } from '../grants/approved-request.ts';
import { stepUpWords } from '../obligations/step-up.ts';
import type { StepUp } from '../obligations/types.ts';
import { AskList, clientName } from './authorize-pages.tsx';
import { errorPage, Page, pageHeaders } from './pages.tsx';

export type PageStatus = 200 | 400 | 403 | 404 | 429;

export function userCodePage(c: Context, props: { csrf: string; who: string; userCode?: string | undefined; error?: string | undefined; status?: PageStatus }) {
  pageHeaders(c);
  return c.html(
    <Page c={c} title="Connect a device">
      <p class="signed-in">
        Signed in as <strong>{props.who}</strong>
      </p>
      <p>Enter the code your device or command line shows.</p>
      {props.error ? <p role="alert">{props.error}</p> : null}
      <form method="post" action="/device">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="user_code">Code</label>
        <input id="user_code" name="user_code" value={props.userCode ?? ''} autocomplete="off" autocapitalize="characters" spellcheck={false} maxlength={32} required />
        <button type="submit">Continue</button>
      </form>
    </Page>,
    props.status ?? 200,
  );
}

export function deviceRequestPage(c: Context, deps: Deps, props: { csrf: string; id: string; who: string; userCode: string; client: ClientConfig; request: PersonRequest; stepUp?: StepUp | undefined }) {
  pageHeaders(c);
  const { request, client } = props;
  return c.html(
    <Page c={c} title={`Allow ${clientName(client)} on your device?`}>
      <p class="signed-in">
        Signed in as <strong>{props.who}</strong>
      </p>
      <p>
        A device that showed the code <strong>{props.userCode}</strong> asks that <strong>{clientName(client)}</strong> may:
      </p>
      <AskList deps={deps} ask={request} />
      <p role="note">Approve only if you started this yourself, on a device you are using now.</p>
      {props.stepUp ? <p>This needs a fresh sign-in with {stepUpWords(props.stepUp)}: if yours is not, Approve first takes you to sign in again.</p> : null}
      <form method="post" action="/device/decide" class="actions">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="id" value={props.id} />
        <input type="hidden" name="user_code" value={props.userCode} />
        <button type="submit" name="decision" value="approve">
          Approve
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </form>
    </Page>,
  );
}

export function deviceDonePage(c: Context, props: { approved: boolean; clientName: string }) {
  pageHeaders(c);
  return c.html(
    <Page c={c} title={props.approved ? 'Device connected' : 'Request denied'}>
      <p role="status">
        {props.approved
          ? `You allowed ${props.clientName}. You can return to your device; it continues on its own.`
          : `You denied ${props.clientName}. Your device gets no access.`}
      </p>
    </Page>,
  );
}

export function deviceMessagePage(c: Context, status: PageStatus, title: string, message: string) {
  return errorPage(c, status, title, message, { href: '/device', text: 'Enter another code' });
}
