// The admin page (/admin): a read-mostly operator page over the admin API's services, in the pages'
// plain style. Signing in is the person's own sign-in; they are an operator when their canonical
// claims match `admin.operators` (a verified e-mail, or `group:<name>`), checked server-side for
// every page and form. It shows agents (with suspend / resume), pending approval requests (with
// cancel), recent receipts (each explained on its own page) and the config status. Every POST is
// same-origin (app.ts) with the browser's CSRF token, answers with a redirect to a confirmation, and
// every change is a receipt naming the person (`person:<sub>`).
import { Hono, type Context } from 'hono';
import { changeAgentState, type LifecycleChange } from '../agents/lifecycle.ts';
import { explainReceipt } from '../audit/explain.ts';
import { findReceipt } from '../audit/find.ts';
import type { AdminConfig } from '../config/admin-schema.ts';
import { cancelApproval } from '../consent/cancel-approval.ts';
import type { Deps } from '../deps.ts';
import type { ConfigStatus } from '../reload.ts';
import type { SessionRecord } from '../store/ports.ts';
import { listAgents } from './admin/agents.ts';
import { listPending } from './admin/approvals.ts';
import { configStatusOf } from './admin/keys-config.ts';
import { listReceipts } from './admin/receipts.ts';
import { browserKit, currentSession } from './browser.ts';
import { readForm } from './form.ts';
import { adminPaths } from './paths.ts';
import { ExplanationView } from './explanation-view.tsx';
import { errorPage, Page, pageHeaders, SignOut } from './pages.tsx';

export const adminPagePath = adminPaths.page;

/** Pure: whether these canonical claims make the person an operator. */
export function isOperator(admin: Pick<AdminConfig, 'operators'>, claims: Record<string, unknown>): boolean {
  const email = typeof claims.email === 'string' && claims.email_verified === true ? claims.email.toLowerCase() : undefined;
  const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [];
  return admin.operators.some((entry) => (entry.startsWith('group:') ? groups.includes(entry.slice('group:'.length)) : email !== undefined && entry.toLowerCase() === email));
}

/** Fixed words for the redirect's confirmation: nothing from the query is echoed. */
const confirmations: Readonly<Record<string, string>> = {
  suspended: 'Agent suspended: it gets no more tokens on any node until resumed.',
  resumed: 'Agent resumed: it can get tokens again.',
  unchanged: 'Nothing changed: the agent was already in that state.',
  retired: 'That agent is retired: it cannot be resumed.',
  cancelled: 'Approval request cancelled: the client is told it was denied.',
  closed: 'That approval request was no longer pending: nothing changed.',
};
const changes: Readonly<Record<string, LifecycleChange>> = { suspend: 'suspend', resume: 'resume' };
const time = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function adminPage(deps: Deps, configStatus?: () => ConfigStatus): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;
  const toLogin = (c: Context, path: string) => c.redirect(`/login?return_to=${encodeURIComponent(path)}`, 303);
  const notOperator = (c: Context) => {
    deps.log.info({ req_id: c.get('requestId'), reason: 'not_an_operator' }, 'admin page refused');
    return errorPage(c, 403, 'Not an operator', 'Your account may not use the admin page. An operator adds you to admin.operators.', { href: '/account', text: 'Your account' });
  };
  /** The session of an operator, or the answer for anyone else. */
  async function operator(c: Context, path: string): Promise<SessionRecord | Response | Promise<Response>> {
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, path);
    return isOperator(deps.config.main.admin, session.claims) ? session : notOperator(c);
  }

  app.get(adminPagePath, async (c) => {
    const session = await operator(c, adminPagePath);
    if (!('sub' in session)) return session;
    const [agents, approvals, receipts] = await Promise.all([listAgents(deps, { limit: 200 }), listPending(deps, { limit: 50 }), listReceipts(deps, { tail: true, limit: 20 })]);
    const config = configStatusOf(deps, configStatus?.());
    const notice = confirmations[c.req.query('done') ?? ''];
    const csrf = kit.csrfFor(c);
    pageHeaders(c);
    return c.html(
      <Page c={c} title="Administration">
        {notice ? <p role="status">{notice}</p> : null}
        <section aria-labelledby="agents">
          <h2 id="agents">Agents</h2>
          {agents.agents.length ? (
            agents.agents.map((agent) => {
              const change = agent.state === 'active' ? 'suspend' : agent.state === 'suspended' ? 'resume' : undefined;
              return (
                <section class="card" aria-label={agent.name ?? agent.client_id}>
                  <h3>{agent.name ?? agent.client_id}</h3>
                  <p>
                    <code>{agent.client_id}</code>
                    {agent.owner ? ` · owner ${agent.owner}` : ''}
                  </p>
                  <p>
                    State: <strong>{agent.state}</strong> <span class="muted">({agent.source === 'runtime' ? `set ${time(agent.changed_at ?? 0)} by ${agent.changed_by ?? 'someone'}` : 'as its file declares'})</span>
                  </p>
                  {change ? (
                    <form method="post" action={`/admin/agents/${encodeURIComponent(agent.client_id)}/${change}`} class="actions">
                      <input type="hidden" name="csrf" value={csrf} />
                      <button type="submit" class={change === 'suspend' ? 'secondary' : undefined}>
                        {change === 'suspend' ? 'Suspend' : 'Resume'} {agent.name ?? agent.client_id}
                      </button>
                    </form>
                  ) : null}
                </section>
              );
            })
          ) : (
            <p>No agents are configured.</p>
          )}
        </section>
        <section aria-labelledby="approvals">
          <h2 id="approvals">Pending approvals</h2>
          {approvals.approvals.length ? (
            approvals.approvals.map((a) => (
              <section class="card" aria-label={`Request ${a.id}`}>
                <p>
                  <strong>{a.agent}</strong> asks ({a.kind}){a.sub ? ` for ${a.sub}` : ''}, waiting for {a.approvers === 'subject' ? 'the person' : a.approvers === 'manager' ? 'their manager' : 'two approvers'} until {time(a.expires_at)}.
                </p>
                <form method="post" action={`/admin/approvals/${encodeURIComponent(a.id)}/cancel`} class="actions">
                  <input type="hidden" name="csrf" value={csrf} />
                  <button type="submit" class="secondary">
                    Cancel request from {a.agent}
                  </button>
                </form>
              </section>
            ))
          ) : (
            <p>Nothing is waiting.</p>
          )}
        </section>
        <section aria-labelledby="receipts">
          <h2 id="receipts">Recent receipts</h2>
          {receipts.receipts.length ? (
            <ul aria-label="Recent receipts">
              {[...receipts.receipts].reverse().map((r) => (
                <li>
                  <a href={`/admin/receipts/${encodeURIComponent(r.id)}`}>{r.event}</a> <span class="muted">{r.at}{r.client_id ? ` · ${r.client_id}` : ''}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p>No receipts yet.</p>
          )}
        </section>
        <section aria-labelledby="config">
          <h2 id="config">Configuration</h2>
          <p>
            {config.stale ? <strong>The last reload was {config.last_reload?.outcome}: the previous configuration stays in force.</strong> : 'In force'}
            {config.loaded_at !== undefined ? ` since ${time(config.loaded_at)}` : ''}, from {config.files.length} files.
          </p>
          {config.last_reload ? (
            <p>
              Last reload: {time(config.last_reload.at)} ({config.last_reload.trigger}), {config.last_reload.outcome}.
            </p>
          ) : null}
          {config.last_reload?.errors?.length ? (
            <ul aria-label="Problems of the last reload">
              {config.last_reload.errors.map((e) => (
                <li>
                  <code>{e}</code>
                </li>
              ))}
            </ul>
          ) : null}
        </section>
        <nav class="links" aria-label="More">
          <a href="/admin/v1/openapi.json">Admin API (OpenAPI)</a>
          <a href="/account">Your account</a>
        </nav>
        <SignOut csrf={csrf} />
      </Page>,
    );
  });

  app.get('/admin/receipts/:id', async (c) => {
    const id = c.req.param('id');
    const session = await operator(c, `/admin/receipts/${encodeURIComponent(id)}`);
    if (!('sub' in session)) return session;
    const record = await findReceipt(deps.store, id);
    if (!record) return errorPage(c, 404, 'No such receipt', 'There is no receipt by that id.', { href: adminPagePath, text: 'Administration' });
    const explained = explainReceipt(record);
    pageHeaders(c);
    return c.html(
      <Page c={c} title="Receipt">
        <ExplanationView explained={explained} showEvent />
        <nav class="links" aria-label="More">
          <a href={adminPagePath}>Administration</a>
        </nav>
      </Page>,
    );
  });

  /** A form's checks: CSRF token, then an operator's session; the answer when they fail. */
  async function formOperator(c: Context): Promise<SessionRecord | Response | Promise<Response>> {
    const form = await readForm(c, maxBytes);
    if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.', { href: adminPagePath, text: 'Administration' });
    return operator(c, adminPagePath);
  }

  app.post('/admin/agents/:id/:change', async (c) => {
    const session = await formOperator(c);
    if (!('sub' in session)) return session;
    const change = Object.hasOwn(changes, c.req.param('change')) ? changes[c.req.param('change')] : undefined;
    if (!change) return errorPage(c, 404, 'No such change', 'Agents can be suspended or resumed here.', { href: adminPagePath, text: 'Administration' });
    const result = await changeAgentState(deps, c.req.param('id'), change, `person:${session.sub}`);
    if (result.status === 'unknown' || result.status === 'not_agent') return errorPage(c, 404, 'No such agent', 'There is no agent by that id.', { href: adminPagePath, text: 'Administration' });
    const done = result.status === 'changed' ? (change === 'suspend' ? 'suspended' : 'resumed') : result.status === 'retired' ? 'retired' : 'unchanged';
    return c.redirect(`${adminPagePath}?done=${done}`, 303);
  });

  app.post('/admin/approvals/:id/cancel', async (c) => {
    const session = await formOperator(c);
    if (!('sub' in session)) return session;
    const outcome = await cancelApproval(deps, c.req.param('id'), `person:${session.sub}`);
    if (outcome.status === 'unknown') return errorPage(c, 404, 'No such request', 'There is no approval request by that id.', { href: adminPagePath, text: 'Administration' });
    return c.redirect(`${adminPagePath}?done=${outcome.status === 'cancelled' ? 'cancelled' : 'closed'}`, 303);
  });

  return app;
}
