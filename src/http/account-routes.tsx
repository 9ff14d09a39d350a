// The account pages beyond /account itself (authorize-routes.tsx): the person's agents with their
// kill switch, their personal access tokens, and the explanation of a receipt that concerns them. Every page needs a session (to
// /login and back); every POST is same-origin (app.ts) and carries the browser's CSRF token, and
// answers with a redirect to a page that confirms it (redirect-after-POST: a reload repeats nothing).
// Another person's agent, or receipt, is 404 exactly like one that does not exist.
import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.ts';
import { changeAgentState, type LifecycleChange } from '../agents/lifecycle.ts';
import type { SessionRecord } from '../store/ports.ts';
import { browserKit, currentSession } from './browser.ts';
import { readForm } from './form.ts';
import { errorPage, Page, pageHeaders, SignOut } from './pages.tsx';
import { AgentCard, describeOwnedAgent, loadOwnedAgents, ownedAgent } from './account-agents.tsx';
import { accountReceiptPage } from './account-receipts.tsx';
import { tokensPage, type TokensPageProps } from './account-tokens.tsx';
import { createPat, revokePat } from '../pats/pats.ts';
import { isRateLimited } from '../limits/limits.ts';
import { tooManyRequestsPage } from './limit-page.tsx';

/** The confirmations a redirect may ask for: fixed words, nothing from the query is echoed. */
const confirmations: Readonly<Record<string, string>> = {
  suspended: 'Suspended: it gets no more tokens, and its Passports no longer work, until you resume it.',
  resumed: 'Resumed: it can get tokens again.',
  unchanged: 'Nothing changed: it was already in that state.',
  retired: 'It is retired: it cannot be resumed.',
};

/** The create form's scope checkboxes: one `scope` per box ticked. */
const scopeBoxes: ReadonlySet<string> = new Set(['scope']);

const changes: Readonly<Record<string, LifecycleChange>> = { suspend: 'suspend', resume: 'resume' };

export function accountRoutes(deps: Deps): Hono {
  const app = new Hono();
  const kit = browserKit(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;
  const toLogin = (c: Context, path: string) => c.redirect(`/login?return_to=${encodeURIComponent(path)}`, 303);
  const notYours = (c: Context) => errorPage(c, 404, 'No such agent', 'You own no agent by that name.', { href: '/account/agents', text: 'Your agents' });

  async function agentsPage(c: Context, session: SessionRecord, only?: string) {
    const notice = confirmations[c.req.query('done') ?? ''];
    const agents = only === undefined ? await loadOwnedAgents(deps, session) : [await describeOwnedAgent(deps, ownedAgent(deps, session, only)!)];
    const csrf = kit.csrfFor(c);
    pageHeaders(c);
    return c.html(
      <Page c={c} title={only === undefined ? 'Your agents' : (agents[0]?.name ?? only)}>
        {notice ? <p role="status">{notice}</p> : null}
        {agents.length ? agents.map((agent) => <AgentCard csrf={csrf} agent={agent} />) : <p>You own no agents.</p>}
        <nav class="links" aria-label="More">
          {only === undefined ? null : <a href="/account/agents">All your agents</a>}
          <a href="/account">Your account</a>
        </nav>
        <SignOut csrf={csrf} />
      </Page>,
    );
  }

  app.get('/account/agents', async (c) => {
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, '/account/agents');
    return agentsPage(c, session);
  });

  app.get('/account/agents/:id', async (c) => {
    const id = c.req.param('id');
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, `/account/agents/${encodeURIComponent(id)}`);
    if (!ownedAgent(deps, session, id)) return notYours(c);
    return agentsPage(c, session, id);
  });

  // The kill switch: a receipt names the person (agents/lifecycle.ts), as `person:<sub>`.
  app.post('/account/agents/:id/:change', async (c) => {
    const form = await readForm(c, maxBytes);
    if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.', { href: '/account/agents', text: 'Your agents' });
    const id = c.req.param('id');
    const change = Object.hasOwn(changes, c.req.param('change')) ? changes[c.req.param('change')] : undefined;
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, '/account/agents');
    if (!change || !ownedAgent(deps, session, id)) {
      deps.log.info({ req_id: c.get('requestId'), reason: 'agent_not_owned' }, 'agent state change refused');
      return notYours(c);
    }
    const result = await changeAgentState(deps, id, change, `person:${session.sub}`);
    const done = result.status === 'changed' ? (change === 'suspend' ? 'suspended' : 'resumed') : result.status === 'retired' ? 'retired' : 'unchanged';
    if (result.status === 'changed') deps.log.info({ req_id: c.get('requestId'), client_id: id, change, by: 'owner' }, 'agent state changed by its owner');
    return c.redirect(`/account/agents/${encodeURIComponent(id)}?done=${done}`, 303);
  });

  // Personal access tokens (src/pats/). With pats.enabled false the pages are not there.
  const tokensOff = (c: Context) => errorPage(c, 404, 'Not available', 'Personal access tokens are turned off here.', { href: '/account', text: 'Your account' });
  const tokensPageFor = async (c: Context, session: SessionRecord, extra: Omit<TokensPageProps, 'csrf' | 'tokens'> = {}) =>
    tokensPage(c, deps, { csrf: kit.csrfFor(c), tokens: await deps.store.pats.list(session.sub, deps.now()), ...extra });

  app.get('/account/tokens', async (c) => {
    if (!deps.config.main.pats.enabled) return tokensOff(c);
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, '/account/tokens');
    return tokensPageFor(c, session, { notice: c.req.query('done') === 'revoked' ? 'Token revoked: it no longer works, nor do the Passports exchanged from it.' : undefined });
  });

  app.post('/account/tokens', async (c) => {
    if (!deps.config.main.pats.enabled) return tokensOff(c);
    const form = await readForm(c, maxBytes, scopeBoxes);
    if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.', { href: '/account/tokens', text: 'Your tokens' });
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, '/account/tokens');
    let result;
    try {
      result = await createPat(deps, session.sub, { name: form.get('name') ?? '', resource: form.get('resource') ?? '', scopes: form.all('scope'), ttlDays: Number(form.get('days') ?? '') });
    } catch (error) {
      if (isRateLimited(error)) return tooManyRequestsPage(c, error);
      throw error;
    }
    if (!result.ok) return tokensPageFor(c, session, { error: result.message, status: 400 });
    deps.log.info({ req_id: c.get('requestId'), pat: result.record.id }, 'personal access token created');
    return tokensPageFor(c, session, { created: { token: result.token, record: result.record } });
  });

  app.post('/account/tokens/revoke', async (c) => {
    if (!deps.config.main.pats.enabled) return tokensOff(c);
    const form = await readForm(c, maxBytes);
    if (!kit.csrfOk(c, form.get('csrf'))) return errorPage(c, 403, 'Form expired', 'This form has expired or was not sent by this browser.', { href: '/account/tokens', text: 'Your tokens' });
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, '/account/tokens');
    // Another person's token, an unknown id and a revoked one get one answer.
    if (!(await revokePat(deps, form.get('id') ?? '', { sub: session.sub }))) return tokensPageFor(c, session, { error: 'There is no such token among yours (it may be revoked or expired).', status: 404 });
    return c.redirect('/account/tokens?done=revoked', 303);
  });

  app.get('/account/receipts/:id', async (c) => {
    const id = c.req.param('id');
    const session = await currentSession(deps, c);
    if (!session) return toLogin(c, `/account/receipts/${encodeURIComponent(id)}`);
    return accountReceiptPage(deps, c, session, id);
  });

  return app;
}
