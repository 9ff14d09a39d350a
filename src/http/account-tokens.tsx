// The personal access tokens page (/account/tokens): the person's tokens with their resource, scopes,
// expiry and last use; one form per resource to create a token (a name, some of the resource's
// scopes, an expiry up to pats.max_ttl_days); revoke. A new token is shown once, in the answer to the
// POST that created it (never in a URL or a redirect), and never again: only its keyed hash is kept.
import type { Context } from 'hono';
import type { Deps } from '../deps.ts';
import { patScopesOf } from '../pats/pats.ts';
import { resourceName, resourceScopeWords } from '../consent/describe.ts';
import type { PatRecord } from '../store/ports.ts';
import { Page, pageHeaders, SignOut } from './pages.tsx';

const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
const minute = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');

export type TokensPageProps = {
  csrf: string;
  tokens: PatRecord[];
  /** A token just created: shown this once. */
  created?: { token: string; record: PatRecord } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
  status?: 200 | 400 | 404;
};

function TokenRow(props: { deps: Deps; csrf: string; record: PatRecord; now: number }) {
  const { record, deps } = props;
  const state = record.revokedAt !== undefined ? `revoked ${day(record.revokedAt)}` : `expires ${day(record.expiresAt)}`;
  return (
    <li>
      <strong>{record.name}</strong> for {resourceName(deps.config, record.resource)}: {record.scopes.join(', ')}; {state};{' '}
      {record.lastUsedAt === undefined ? 'never used' : `last used ${minute(record.lastUsedAt)} UTC`} <span class="muted">({record.id})</span>
      {record.revokedAt === undefined ? (
        <form method="post" action="/account/tokens/revoke" class="actions">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="id" value={record.id} />
          <button type="submit" class="secondary">
            Revoke {record.name}
          </button>
        </form>
      ) : null}
    </li>
  );
}

function CreateForm(props: { deps: Deps; csrf: string; resource: string; scopes: string[] }) {
  const { deps, resource } = props;
  const name = resourceName(deps.config, resource);
  const max = deps.config.main.pats.max_ttl_days;
  const idOf = (what: string) => `${what}-${encodeURIComponent(resource).replace(/[^A-Za-z0-9]/g, '')}`;
  return (
    <section class="card" aria-label={`New token for ${name}`}>
      <h3>New token for {name}</h3>
      <form method="post" action="/account/tokens">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="resource" value={resource} />
        <label for={idOf('name')}>Name (what it is for)</label>
        <input id={idOf('name')} name="name" maxlength={100} required />
        <fieldset>
          <legend>Scopes</legend>
          {props.scopes.map((scope) => (
            <label class="choice">
              <input type="checkbox" name="scope" value={scope} /> {scope}: {resourceScopeWords(deps.config, resource, scope)}
            </label>
          ))}
        </fieldset>
        <label for={idOf('days')}>Expires in (days, at most {max})</label>
        <input id={idOf('days')} name="days" type="number" min={1} max={max} value={String(Math.min(30, max))} required />
        <button type="submit">Create token</button>
      </form>
    </section>
  );
}

export function tokensPage(c: Context, deps: Deps, props: TokensPageProps) {
  pageHeaders(c);
  const now = deps.now();
  const resources = [...deps.config.resources.keys()].map((resource) => ({ resource, scopes: patScopesOf(deps, resource) })).filter((r) => r.scopes.length > 0);
  return c.html(
    <Page c={c} title="Personal access tokens">
      {props.error ? <p role="alert">{props.error}</p> : null}
      {props.notice ? <p role="status">{props.notice}</p> : null}
      {props.created ? (
        <section role="note" aria-label="Your new token">
          <p>
            Your new token <strong>{props.created.record.name}</strong>. Copy it now: it will not be shown again.
          </p>
          <code class="secret" id="new-token">
            {props.created.token}
          </code>
        </section>
      ) : null}
      <p class="muted">
        A personal access token lets a script or developer tool act as you on one resource, with the scopes you choose, until it expires or you revoke it. Treat it like a password.
      </p>
      <h2>Your tokens</h2>
      {props.tokens.length ? (
        <ul aria-label="Your tokens">
          {props.tokens.map((record) => (
            <TokenRow deps={deps} csrf={props.csrf} record={record} now={now} />
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      <h2>Create a token</h2>
      {resources.map((r) => (
        <CreateForm deps={deps} csrf={props.csrf} resource={r.resource} scopes={r.scopes} />
      ))}
      <nav class="links" aria-label="More">
        <a href="/account">Your account</a>
      </nav>
      <SignOut csrf={props.csrf} />
    </Page>,
    props.status ?? 200,
  );
}
