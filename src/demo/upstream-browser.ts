// A minimal browser for the stand-in upstream IdPs: fetch with manual redirects, a path-aware
// cookie jar, and just enough HTML form handling to fill the login and consent pages that
// upstreams.ts renders.

export type UpstreamLoginOptions = {
  /** Answer on the consent page: true (default) allows, false denies (→ error=access_denied). */
  consent?: boolean;
  /** Authentication level to log in at; becomes the ID token `acr`. Default: the first requested acr_values, else none. */
  acr?: string;
  /** Methods used; becomes the ID token `amr`. Default: ['pwd'], or ['pwd', 'mfa'] when `acr` looks like MFA. */
  amr?: string[];
  /** Any value is accepted by the stand-ins. */
  password?: string;
  /** Reuse a browser (its cookies, so its upstream session) across logins; default: a fresh one. */
  browser?: UpstreamBrowser;
};

type Cookie = { name: string; value: string; path: string };

/** Cookies for one origin, as a browser keeps them (name + path; no domain handling: loopback only). */
export class UpstreamBrowser {
  readonly #cookies = new Map<string, Cookie>();

  cookieHeader(url: URL): string | undefined {
    const matching = [...this.#cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
        const lower = key.toLowerCase();
        if (lower === 'path' && val.startsWith('/')) path = val;
        else if (lower === 'max-age' && Number(val) <= 0) expired = true;
        else if (lower === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${name}\u0000${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  /** Names of the cookies held (for tests about sessions). */
  cookieNames(): string[] {
    return [...new Set([...this.#cookies.values()].map((c) => c.name))];
  }

  clear(): void {
    this.#cookies.clear();
  }
}

const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, entity: string) => {
    const e = entity.toLowerCase();
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e] ?? '';
  });

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*"([^"]*)"/g)) out[m[1]!.toLowerCase()] = decodeEntities(m[2]!);
  return out;
}

type Form = { action: string; fields: { name: string; type: string; value: string }[] };

function parseForm(html: string): Form | undefined {
  const form = /<form\b[^>]*>/i.exec(html);
  if (!form) return undefined;
  const action = attributes(form[0]).action;
  if (action === undefined) return undefined;
  const fields = [...html.matchAll(/<(?:input|button)\b[^>]*>/gi)]
    .map((m) => attributes(m[0]))
    .filter((a) => a.name !== undefined)
    .map((a) => ({ name: a.name!, type: (a.type ?? 'text').toLowerCase(), value: a.value ?? '' }));
  return { action, fields };
}

const pageText = (html: string): string =>
  decodeEntities(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();

/**
 * Drives an authorization request through an upstream's login and consent pages like a browser
 * and returns the URL the upstream finally redirects to on one of `redirectUris` (with
 * code/state/iss, or error/error_description/state/iss). Throws if the upstream shows an error
 * page or the user is unknown.
 */
export async function driveLogin(
  authorizationUrl: string | URL,
  username: string,
  redirectUris: string[],
  options: UpstreamLoginOptions = {},
): Promise<string> {
  const browser = options.browser ?? new UpstreamBrowser();
  const isClientRedirect = (url: URL) =>
    redirectUris.some((uri) => {
      const r = new URL(uri);
      return r.origin === url.origin && r.pathname === url.pathname;
    });

  let request: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: new URL(authorizationUrl), method: 'GET' };
  for (let step = 0; step < 20; step += 1) {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = browser.cookieHeader(request.url);
    if (cookie) headers.cookie = cookie;
    if (request.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      redirect: 'manual',
      ...(request.body ? { body: request.body.toString() } : {}),
    });
    browser.store(request.url, response.headers);

    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, request.url);
      if (isClientRedirect(next)) return next.href;
      request = { url: next, method: 'GET' };
      continue;
    }

    const html = await response.text();
    if (request.body?.get('prompt') === 'login') {
      // The submitted login form did not redirect: the upstream refused the user.
      throw new Error(`upstream login failed for ${username} (${response.status}): ${pageText(html).slice(0, 300)}`);
    }
    const form = response.status === 200 ? parseForm(html) : undefined;
    const prompt = form?.fields.find((f) => f.name === 'prompt')?.value;
    if (!form || (prompt !== 'login' && prompt !== 'consent')) {
      throw new Error(`upstream answered ${response.status} at ${request.url.pathname}: ${pageText(html).slice(0, 500)}`);
    }

    const body = new URLSearchParams();
    for (const field of form.fields) {
      if (field.type === 'submit' || field.type === 'checkbox') continue;
      body.set(field.name, field.value);
    }
    if (prompt === 'login') {
      body.set('username', username);
      body.set('password', options.password ?? 'correct horse battery staple');
      if (options.acr !== undefined) body.set('acr', options.acr);
      if (options.amr !== undefined) body.set('amr', options.amr.join(' '));
    } else {
      body.set('decision', options.consent === false ? 'deny' : 'allow');
    }
    request = { url: new URL(form.action, request.url), method: 'POST', body };
  }
  throw new Error('upstream login did not reach the client redirect_uri within 20 steps');
}
