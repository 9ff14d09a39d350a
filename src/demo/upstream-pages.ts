// The stand-in IdPs' own pages (login with username and authentication level, consent) and the
// small HTTP helpers they use. Plain HTML, no scripts; demo and tests only.
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { UpstreamKind } from './upstream-accounts.ts';

export type InteractionDetails = {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
};

const TITLES: Record<UpstreamKind, string> = {
  entra: 'Sign in to your account (Microsoft Entra ID stand-in)',
  okta: 'Sign In (Okta stand-in)',
  auth0: 'Log in (Auth0 stand-in)',
  oidc: 'Sign in (OpenID provider stand-in)',
};

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req)).toString('utf8'));
}

/** The same request with a body already read, for handing on to oidc-provider (which reads it again). */
export function withBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  // complete: a copy ended early would otherwise count as aborted and destroy the shared socket.
  Object.assign(copy, { complete: true, method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, httpVersion: req.httpVersion, httpVersionMajor: req.httpVersionMajor, httpVersionMinor: req.httpVersionMinor });
  copy.push(body);
  copy.push(null);
  return copy;
}

/**
 * Lets `rewrite` change a successful JSON response before it leaves (oidc-provider ends JSON
 * responses with one res.end(body) and no explicit writeHead, so the length can still change).
 */
export function rewriteJsonBody(res: ServerResponse, rewrite: (body: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    const json = res.statusCode === 200 && /json/.test(String(res.getHeader('content-type'))) && chunk !== undefined;
    if (!json) return end(chunk);
    Promise.resolve()
      .then(() => rewrite(JSON.parse(Buffer.from(chunk as string | Buffer).toString('utf8')) as Record<string, unknown>))
      .then((body) => {
        const text = JSON.stringify(body);
        if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(text));
        end(text);
      })
      .catch((error: unknown) => {
        console.error('stand-in response rewrite failed:', error);
        res.destroy();
      });
    return res;
  }) as ServerResponse['end'];
}

/** Entra's first page at a multi-tenant authority: who are you (so which tenant signs you in)? */
export function homeRealmPageHtml(action: string, query: string, error?: string): string {
  return page(
    TITLES.entra,
    `${error ? `<p role="alert" data-error>${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="prompt" value="login">
<input type="hidden" name="query" value="${escapeHtml(query)}">
<label>Username <input type="text" name="username" value="" autofocus></label>
<button type="submit">Next</button>
</form>`,
  );
}

export function loginPageHtml(kind: UpstreamKind, interactionPath: string, details: InteractionDetails, error?: string): string {
    const requestedAcr = typeof details.params.acr_values === 'string' ? details.params.acr_values.split(' ')[0] : undefined;
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
    return page(
      TITLES[kind],
      `${error ? `<p role="alert" data-error>${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(`${interactionPath}${details.uid}`)}">
<input type="hidden" name="prompt" value="login">
<label>Username <input type="text" name="username" value="${escapeHtml(hint)}" autofocus></label>
<label>Password <input type="password" name="password" value=""></label>
<label>Authentication level <input type="text" name="acr" value="${escapeHtml(requestedAcr ?? '')}"></label>
<button type="submit">Sign in</button>
</form>`,
    );
}

export function consentPageHtml(kind: UpstreamKind, interactionPath: string, details: InteractionDetails): string {
    const scopes = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    return page(
      TITLES[kind],
      `<p>${escapeHtml(String(details.params.client_id))} wants: ${scopes.map(escapeHtml).join(', ')}</p>
<form method="post" action="${escapeHtml(`${interactionPath}${details.uid}`)}">
<input type="hidden" name="prompt" value="consent">
<button type="submit" name="decision" value="allow">Accept</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`,
    );
}
