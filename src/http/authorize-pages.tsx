// Pages of the authorization flow: consent (what the app asks, in words), the form_post
// response, and the account page where remembered consents and delegations are revoked.
import type { Context } from 'hono';
import { randomBytes } from 'node:crypto';
import { splitRememberedScope } from '../authorize/consent.ts';
import type { Ask, AuthorizationRequest } from '../authorize/request.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { ConsentRecord } from '../store/ports.ts';
import { describeAsk, identityScopeWords, resourceName, resourceScopeWords } from '../consent/describe.ts';
import { DelegationSections, type AccountDelegations } from './account-delegations.tsx';
import { AskWordsView } from './ask-words.tsx';
import { Page, pageHeaders, SignOut } from './pages.tsx';

export const clientName = (client: ClientConfig) => client.name ?? client.client_id;

/**
 * An MCP client named by its metadata document URL, or one that registered itself, chose its own
 * name: the page says so and shows where it really lives, so a look-alike name cannot hide it.
 */
function UnlistedClient(props: { deps: Deps; client: ClientConfig; redirectUri: string }) {
  if (props.deps.config.clients.has(props.client.client_id)) return null;
  const documentHost = URL.canParse(props.client.client_id) ? new URL(props.client.client_id).host : undefined;
  const returnHost = URL.canParse(props.redirectUri) ? new URL(props.redirectUri).host || props.redirectUri.split(':')[0] : props.redirectUri;
  return (
    <p role="note">
      Your organization has not reviewed this application: it {documentHost ? <>is described by <strong>{documentHost}</strong></> : 'registered itself'} and
      will take you back to <strong>{returnHost}</strong>. Continue only if you trust it.
    </p>
  );
}

/** What a person is asked to grant, in the words the inbox uses too (consent/describe.ts). */
export function AskList(props: { deps: Deps; ask: Ask }) {
  return <AskWordsView words={describeAsk(props.deps.config, props.ask, 'person')} />;
}

export function consentPage(c: Context, deps: Deps, props: { id: string; csrf: string; client: ClientConfig; request: AuthorizationRequest; who: string }) {
  pageHeaders(c);
  const { request, client } = props;
  return c.html(
    <Page c={c} title={`Allow ${clientName(client)}?`}>
      <p class="signed-in">
        Signed in as <strong>{props.who}</strong>
      </p>
      <UnlistedClient deps={deps} client={client} redirectUri={request.redirectUri} />
      <p>
        <strong>{clientName(client)}</strong> asks to:
      </p>
      <AskList deps={deps} ask={request} />
      <form method="post" action="/authorize/consent" class="actions">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="id" value={props.id} />
        <button type="submit" name="decision" value="allow">
          Allow
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </form>
      <p class="muted">
        You can withdraw this later on <a href="/account">your account page</a>.
      </p>
    </Page>,
  );
}

/** Form Post Response Mode: an auto-submitting form; the script runs only with this page's nonce. */
export function formPostPage(c: Context, action: string, fields: Record<string, string>) {
  const nonce = randomBytes(16).toString('base64');
  pageHeaders(c);
  c.header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`);
  return c.html(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Returning to the application · Consulate</title>
      </head>
      <body>
        <form method="post" action={action}>
          {Object.entries(fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <noscript>
            <button type="submit">Continue to the application</button>
          </noscript>
        </form>
        <script nonce={nonce}>{'document.forms[0].submit()'}</script>
      </body>
    </html>,
  );
}

export function accountPage(
  c: Context,
  deps: Deps,
  props: { csrf: string; who: string; consents: ConsentRecord[]; delegations: AccountDelegations; notice?: string | undefined; status?: 200 | 404 },
) {
  pageHeaders(c);
  const config = deps.config;
  return c.html(
    <Page c={c} title="Your account">
      <p class="signed-in">
        Signed in as <strong>{props.who}</strong>
      </p>
      {props.notice ? <p role="status">{props.notice}</p> : null}
      <h2>Applications you allowed</h2>
      {props.consents.length ? (
        props.consents.map((consent) => {
          const client = config.clients.get(consent.clientId);
          const name = client ? clientName(client) : consent.clientId;
          return (
            <section class="card" aria-label={name}>
              <h3>{name}</h3>
              <p class="muted">Since {new Date(consent.grantedAt * 1000).toISOString().slice(0, 10)}</p>
              <ul>
                {consent.scopes.map((value) => {
                  const [resource, scope] = splitRememberedScope(value);
                  return <li>{resource ? `${resourceName(config, resource)}: ${resourceScopeWords(config, resource, scope)}` : identityScopeWords(scope, 'person')}</li>;
                })}
              </ul>
              <form method="post" action="/account/consents/revoke" class="actions">
                <input type="hidden" name="csrf" value={props.csrf} />
                <input type="hidden" name="client_id" value={consent.clientId} />
                <button type="submit" class="secondary">
                  Withdraw access of {name}
                </button>
              </form>
            </section>
          );
        })
      ) : (
        <p>None.</p>
      )}
      <DelegationSections csrf={props.csrf} delegations={props.delegations} />
      <nav class="links" aria-label="More">
        <a href="/account/agents">Agents you own</a>
        <a href="/account/tokens">Your personal access tokens</a>
        <a href="/approvals">Requests waiting for your approval</a>
      </nav>
      <SignOut csrf={props.csrf} />
    </Page>,
    props.status ?? 200,
  );
}
