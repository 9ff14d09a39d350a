// Drives a person through /authorize like a browser: follows Consulate's redirects, logs in at the
// stand-in upstream, fills the login and consent forms, and stops where the browser would leave
// for the application (a redirect to it, or a form_post page) or at a page it cannot answer.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { startConsulate, type TestConsulate } from './consulate.ts';
import { freePort, type cookieJar } from './browser.ts';
import { startUpstream, type Upstream, type UpstreamLoginOptions } from './upstreams.ts';

export type Jar = ReturnType<typeof cookieJar>;

export type Outcome = {
  /** The redirect to the application, when the flow ended with one. */
  location?: string;
  /** The form_post page's form, when the flow ended with one. */
  formPost?: { action: string; fields: Record<string, string>; csp: string };
  /** A page of Consulate's the flow stopped at (error page, or consent left unanswered). */
  page?: { status: number; html: string };
  /** Each hop, for assertions on where the browser went. */
  hops: string[];
  consentShown: boolean;
};

export type DriveOptions = {
  username: string;
  /** What to answer on the consent page; `leave` stops there. Default allow. */
  consent?: 'allow' | 'deny' | 'leave';
  upstreamOptions?: UpstreamLoginOptions;
  /** Called with each upstream authorization URL before the login there. */
  onUpstream?: (url: URL) => void;
};

const attr = (html: string, name: string): string | undefined => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&').replace(/&quot;/g, '"');

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1] as string] = (match[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'");
  }
  return fields;
}

export async function drive(server: TestConsulate, upstream: Upstream, jar: Jar, start: string | URL, options: DriveOptions): Promise<Outcome> {
  const hops: string[] = [];
  let consentShown = false;
  let response = await jar.fetch(start);
  for (let i = 0; i < 20; i++) {
    const here = response.url || String(start);
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') as string, here).href;
      hops.push(location);
      if (location.startsWith(upstream.url)) {
        options.onUpstream?.(new URL(location));
        response = await jar.fetch(await upstream.login(location, options.username, options.upstreamOptions));
      } else if (location.startsWith(server.url)) {
        response = await jar.fetch(location);
      } else {
        return { location, hops, consentShown };
      }
      continue;
    }
    const html = await response.text();
    if (response.status === 200 && html.includes('action="/login"')) {
      response = await jar.fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hiddenFields(html), email: options.username }) });
      continue;
    }
    if (response.status === 200 && html.includes('action="/authorize/consent"')) {
      consentShown = true;
      if ((options.consent ?? 'allow') === 'leave') return { page: { status: 200, html }, hops, consentShown };
      const form = { csrf: attr(html, 'csrf') ?? '', id: attr(html, 'id') ?? '', decision: options.consent ?? 'allow' };
      response = await jar.fetch(`${server.url}/authorize/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
      continue;
    }
    const formPost = /<form method="post" action="([^"]+)">/.exec(html);
    if (response.status === 200 && formPost && !formPost[1]!.startsWith('/')) {
      return { formPost: { action: formPost[1]!.replace(/&amp;/g, '&'), fields: hiddenFields(html), csp: response.headers.get('content-security-policy') ?? '' }, hops, consentShown };
    }
    return { page: { status: response.status, html }, hops, consentShown };
  }
  throw new Error(`too many hops: ${hops.join(' → ')}`);
}

/** The redirect's parameters, asserting it went to `redirectUri`. */
export function redirectParams(outcome: Outcome, redirectUri: string): URLSearchParams {
  expect(outcome.page?.html.slice(0, 300), 'expected a redirect to the application, got a page').toBeUndefined();
  const url = new URL(outcome.location as string);
  expect(`${url.origin}${url.pathname}`).toBe(redirectUri);
  return url.searchParams;
}

/** A Consulate whose one upstream is a stand-in Okta (home realm example.com), on a port known in advance. */
export async function startWithOkta(options: { files?: Record<string, string>; now?: () => number } = {}): Promise<{ server: TestConsulate; okta: Upstream; stop: () => Promise<void> }> {
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const okta = await startUpstream({ kind: 'okta', clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`http://127.0.0.1:${port}/callback/okta`] }] });
  const upstreamYaml = ['id: okta', 'kind: okta', 'name: Example Corp (Okta)', `issuer: ${okta.issuer}`, 'client_id: consulate', 'client_secret: ${env:OKTA_SECRET}', 'scopes: [openid, profile, email, groups]', 'email_domains: [example.com]'];
  const server = await startConsulate({ port, env: { OKTA_SECRET: secret }, files: { 'upstreams/okta.yaml': upstreamYaml.join('\n'), ...options.files }, ...(options.now ? { now: options.now } : {}) });
  return {
    server,
    okta,
    async stop() {
      await server.stop();
      await okta.close();
    },
  };
}
