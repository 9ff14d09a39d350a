// The stand-in IdPs' own pages (login with username and authentication level, consent) and the
// small HTTP helpers they use. Plain HTML, no scripts; demo and tests only.
import type { IncomingMessage, ServerResponse } from 'node:http';
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

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
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
