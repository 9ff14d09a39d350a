// Pages of the authorization flow: consent (what the app asks, in words), the form_post
// response, and the account page where remembered consents and delegations are revoked.
import type { Context } from 'hono';
import { randomBytes } from 'node:crypto';
import { splitRememberedScope } from '../authorize/consent.ts';
import type { Ask, AuthorizationRequest } from '../authorize/request.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { ConsentRecord } from '../store/ports.ts';
import { DelegationSections, type AccountDelegations } from './account-delegations.tsx';
import { Page, pageHeaders } from './pages.tsx';

const identityScopeWords: Readonly<Record<string, string>> = {
  openid: 'Know who you are (your account id and the organisation you signed in with)',
  profile: 'See your name',
  email: 'See your e-mail address',
  groups: 'See the groups you belong to',
  offline_access: 'Stay connected when you are not using it',
  approvals: 'Approve or deny requests waiting for your approval, in your name',
};

export const clientName = (client: ClientConfig) => client.name ?? client.client_id;

export function scopeWords(deps: Deps, resource: string | undefined, scope: string): string {
  if (!resource) return identityScopeWords[scope] ?? scope;
  const described = deps.config.resources.get(resource)?.scopes;
  return described && Object.hasOwn(described, scope) ? (described[scope] as string) : scope;
}

export const resourceName = (deps: Deps, resource: string) => deps.config.resources.get(resource)?.name ?? resource;

export function DetailItem(props: { deps: Deps; resource: string; detail: AuthorizationDetail }) {
  const types = props.deps.config.resources.get(props.resource)?.authorization_details_types;
  const description = types && Object.hasOwn(types, props.detail.type) ? types[props.detail.type]?.description : undefined;
  const fields = Object.entries(props.detail).filter(([name]) => name !== 'type');
  return (
    <li>
      {description ?? props.detail.type}
      {fields.length ? (
        <dl>
          {fields.map(([name, value]) => (
            <>
              <dt>{name}</dt>
              <dd>{Array.isArray(value) ? value.map(String).join(', ') : typeof value === 'object' ? JSON.stringify(value) : String(value)}</dd>
            </>
          ))}
        </dl>
      ) : null}
    </li>
  );
}

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

/** What a person is asked to grant, in words: identity scopes, then the resource's scopes and details. */
export function AskList(props: { deps: Deps; ask: Ask }) {
  const { deps, ask } = props;
  const resource = ask.resource;
  return (
    <>
      <ul>
        {ask.identityScopes.map((s) => (
          <li>{scopeWords(deps, undefined, s)}</li>
        ))}
      </ul>
      {resource ? (
        <section aria-label={resourceName(deps, resource)}>
          <h2>On {resourceName(deps, resource)}</h2>
          <ul>
            {ask.resourceScopes.map((s) => (
              <li>{scopeWords(deps, resource, s)}</li>
            ))}
            {(ask.authorizationDetails ?? []).map((detail) => (
              <DetailItem deps={deps} resource={resource} detail={detail} />
            ))}
            {!ask.resourceScopes.length && !ask.authorizationDetails?.length ? <li>Access it on your behalf</li> : null}
          </ul>
        </section>
      ) : null}
    </>
  );
}

export function consentPage(c: Context, deps: Deps, props: { id: string; csrf: string; client: ClientConfig; request: AuthorizationRequest; who: string }) {
  pageHeaders(c);
  const { request, client } = props;
  return c.html(
    <Page title={`Allow ${clientName(client)}?`}>
      <p>
        You are signed in as <strong>{props.who}</strong>. <strong>{clientName(client)}</strong> asks to:
      </p>
      <UnlistedClient deps={deps} client={client} redirectUri={request.redirectUri} />
      <AskList deps={deps} ask={request} />
      <form method="post" action="/authorize/consent">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="id" value={props.id} />
        <button type="submit" name="decision" value="allow">
          Allow
        </button>
        <button type="submit" name="decision" value="deny">
          Deny
        </button>
      </form>
      <p>
        You can withdraw this later on <a href="/account">your account page</a>.
      </p>
    </Page>,
  );
}

/** Form Post Response Mode: an auto-submitting form; the script runs only with this page's nonce. */
export function formPostPage(c: Context, action: string, fields: Record<string, string>) {
  const nonce = randomBytes(16).toString('base64');
  pageHeaders(c);
  c.header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'`);
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
  return c.html(
    <Page title="Your account">
      <p>
        Signed in as <strong>{props.who}</strong>.
      </p>
      {props.notice ? <p role="status">{props.notice}</p> : null}
      <h2>Applications you allowed</h2>
      {props.consents.length ? (
        <ul>
          {props.consents.map((consent) => {
            const client = deps.config.clients.get(consent.clientId);
            return (
              <li>
                <strong>{client ? clientName(client) : consent.clientId}</strong> since {new Date(consent.grantedAt * 1000).toISOString().slice(0, 10)}
                <ul>
                  {consent.scopes.map((value) => {
                    const [resource, scope] = splitRememberedScope(value);
                    return <li>{resource ? `${resourceName(deps, resource)}: ${scopeWords(deps, resource, scope)}` : scopeWords(deps, undefined, scope)}</li>;
                  })}
                </ul>
                <form method="post" action="/account/consents/revoke">
                  <input type="hidden" name="csrf" value={props.csrf} />
                  <input type="hidden" name="client_id" value={consent.clientId} />
                  <button type="submit">Withdraw access of {client ? clientName(client) : consent.clientId}</button>
                </form>
              </li>
            );
          })}
        </ul>
      ) : (
        <p>None.</p>
      )}
      <DelegationSections csrf={props.csrf} delegations={props.delegations} />
      <p>
        <a href="/approvals">Requests waiting for your approval</a>
      </p>
    </Page>,
    props.status ?? 200,
  );
}
