// A person logs in to Consulate through real stand-in upstream IdPs (oidc-provider shaped like
// Okta, Entra and Auth0): home-realm discovery, upstream redirect with PKCE/state/nonce, callback,
// ID token checks, account linking and a session; then the attacks on each step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { startUpstream, type Upstream } from './support/upstreams.ts';

const secret = 'upstream-client-secret-0123456789';
/** The stand-ins' demo usernames are e-mail addresses: alice@…, bob@…. */
const user = (upstream: Upstream, name: string) => upstream.accounts.find((a) => a.username.startsWith(`${name}@`))!.username;

const upstreamYaml = (id: string, kind: string, issuer: string, extra = '') =>
  [`id: ${id}`, `kind: ${kind}`, `name: ${id} sign-in`, `issuer: ${issuer}`, 'client_id: consulate', 'client_secret: ${env:UPSTREAM_SECRET}', extra].join('\n');

describe('federated browser login', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let entra: Upstream;
  let auth0: Upstream;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const client = (id: string) => [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`${base}/callback/${id}`] }];
    [okta, entra, auth0] = await Promise.all([
      startUpstream({ kind: 'okta', clients: client('okta') }),
      startUpstream({ kind: 'entra', clients: client('entra') }),
      startUpstream({ kind: 'auth0', clients: client('auth0') }),
    ]);
    server = await startConsulate({
      port,
      env: { UPSTREAM_SECRET: secret },
      files: {
        'upstreams/okta.yaml': upstreamYaml('okta', 'okta', okta.issuer, 'scopes: [openid, profile, email, groups]\nemail_domains: [okta.example]\nlink_verified_email: true'),
        'upstreams/entra.yaml': upstreamYaml('entra', 'entra', entra.issuer, 'email_domains: [contoso.example]\nlink_verified_email: true'),
        'upstreams/auth0.yaml': upstreamYaml('auth0', 'auth0', auth0.issuer, 'client_auth_method: client_secret_post\nlink_verified_email: true'),
        'upstreams/down.yaml': upstreamYaml('down', 'oidc', `http://127.0.0.1:${await freePort()}`),
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([okta, entra, auth0].map((u) => u?.close()));
  });

  /** Browser → Consulate → upstream login → callback URL (not yet followed). */
  async function toCallback(jar: ReturnType<typeof cookieJar>, upstream: Upstream, id: string, username: string) {
    const start = await jar.fetch(`${base}/login/${id}?return_to=/session`);
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get('location') as string);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    return upstream.login(authorize, user(upstream, username));
  }

  async function logIn(upstream: Upstream, id: string, username: string) {
    const jar = cookieJar();
    const callback = await toCallback(jar, upstream, id, username);
    const done = await jar.fetch(callback);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/session');
    const page = await jar.fetch(`${base}/session`);
    return { jar, page: await page.text(), status: page.status };
  }

  it('login page: a chooser of upstreams and an e-mail form, never framed or cached', async () => {
    const response = await cookieJar().fetch(`${base}/login`);
    const html = await response.text();
    expect(response.status).toBe(200);
    for (const id of ['okta', 'entra', 'auth0']) expect(html).toContain(`href="/login/${id}?return_to=%2Fsession"`);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('set-cookie')).toMatch(/consulate_browser=.*HttpOnly.*SameSite=Lax/i);
  });

  it('home-realm discovery by e-mail domain, CSRF-protected', async () => {
    const jar = cookieJar();
    const html = await (await jar.fetch(`${base}/login`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const post = (body: Record<string, string>) =>
      jar.fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    const routed = await post({ csrf, email: 'alice@contoso.example', return_to: '/session' });
    expect(routed.status).toBe(303);
    expect(routed.headers.get('location')).toMatch(/^\/login\/entra\?return_to=%2Fsession&login_hint=alice%40contoso\.example$/);
    expect((await post({ csrf, email: 'x@nowhere.example' })).status).toBe(400);
    expect((await post({ email: 'alice@contoso.example' })).status).toBe(403);
    expect((await post({ csrf: 'forged', email: 'alice@contoso.example' })).status).toBe(403);
  });

  it('the login and sign-out forms are read only up to max_body_bytes, and only as a urlencoded form', async () => {
    const jar = cookieJar();
    await jar.fetch(`${base}/login`);
    const limit = server.config.main.http.max_body_bytes;
    for (const path of ['/login', '/logout']) {
      const huge = await jar.fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `pad=${'a'.repeat(limit * 64)}` });
      expect(huge.status).toBe(413);
      const multipart = new FormData();
      multipart.set('pad', 'a');
      expect((await jar.fetch(`${base}${path}`, { method: 'POST', body: multipart })).status).toBe(400);
    }
  });

  it('okta: a login ends in a session with canonical claims, provenance and a receipt', async () => {
    const { page, status } = await logIn(okta, 'okta', 'alice');
    expect(status).toBe(200);
    expect(page).toContain('through okta sign-in');
    const alice = okta.accounts.find((a) => a.username === user(okta, 'alice'))!;
    const records = await server.deps.store.audit.list();
    const login = records.filter((r) => r.event === 'login.upstream').at(-1)!;
    expect(login.details).toMatchObject({ upstream: 'okta', orig_iss: okta.issuer, orig_sub: alice.id, linked_by: 'new_person' });
    // Same upstream account again: the same person.
    await logIn(okta, 'okta', 'alice');
    const again = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    expect(again.subject).toBe(login.subject);
    expect(again.details.linked_by).toBe('account');
  });

  it('entra: oid names the account at its tenant issuer', async () => {
    const { status } = await logIn(entra, 'entra', 'alice');
    expect(status).toBe(200);
    const login = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    const alice = entra.accounts.find((a) => a.username === user(entra, 'alice'))!;
    expect(login.details).toMatchObject({ upstream: 'entra', orig_iss: entra.issuer, orig_sub: alice.claims.oid });
    expect(entra.issuer).toMatch(/\/[0-9a-f-]{36}\/v2\.0$/);
  });

  it('a verified e-mail links a second upstream to the existing person when the operator allows it', async () => {
    await logIn(okta, 'okta', 'alice');
    const oktaLogin = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    await logIn(auth0, 'auth0', 'alice');
    const auth0Login = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    expect(auth0Login.details.linked_by).toBe('verified_email');
    expect(auth0Login.subject).toBe(oktaLogin.subject);
    expect((await server.deps.store.subjects.accountsOf(oktaLogin.subject!)).map((a) => a.upstreamId).sort()).toEqual(['auth0', 'okta']);
  });

  it('an unverified e-mail never links to an existing person', async () => {
    await logIn(okta, 'okta', 'bob'); // bob@example.com, unverified at okta
    await logIn(auth0, 'auth0', 'bob'); // bob@example.com, unverified at auth0 (which allows linking)
    const login = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    expect(login.details.linked_by).toBe('new_person');
  });

  it('the callback is single use, bound to its browser, and its state cannot be tampered with', async () => {
    const jar = cookieJar();
    const callback = await toCallback(jar, okta, 'okta', 'alice');
    // Another browser presenting the callback gets nothing, with or without a browser cookie of its own.
    expect((await cookieJar().fetch(callback)).status).toBe(400);
    const stranger = cookieJar();
    await stranger.fetch(`${base}/login`);
    const refused = await stranger.fetch(callback);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Sign-in could not be completed');
    expect(stranger.cookies.has('consulate_session')).toBe(false);
    // A foreign browser's attempt burns the state: the callback URL is worth nothing afterwards.
    expect((await jar.fetch(callback)).status).toBe(400);

    const fresh = cookieJar();
    const good = new URL(await toCallback(fresh, okta, 'okta', 'alice'));
    const tampered = new URL(good);
    tampered.searchParams.set('state', `${good.searchParams.get('state')}x`);
    expect((await fresh.fetch(tampered)).status).toBe(400);
    expect((await fresh.fetch(good)).status).toBe(303);
    expect((await fresh.fetch(good)).status).toBe(400);
    expect(fresh.cookies.has('consulate_session')).toBe(true);
  });

  it('a callback presented first without any cookie burns the state: its own browser gets nothing afterwards', async () => {
    const jar = cookieJar();
    const callback = await toCallback(jar, okta, 'okta', 'alice');
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400);
    const late = await jar.fetch(callback);
    expect(late.status).toBe(400);
    expect(jar.cookies.has('consulate_session')).toBe(false);
  });

  it('mix-up: a callback carrying another issuer is refused', async () => {
    const jar = cookieJar();
    const callback = new URL(await toCallback(jar, okta, 'okta', 'alice'));
    callback.searchParams.set('iss', entra.issuer);
    expect((await jar.fetch(callback)).status).toBe(400);
    expect(jar.cookies.has('consulate_session')).toBe(false);
  });

  it('a callback for one upstream presented at another upstream\'s endpoint is refused', async () => {
    const jar = cookieJar();
    const callback = new URL(await toCallback(jar, okta, 'okta', 'alice'));
    const moved = new URL(`${base}/callback/entra${callback.search}`);
    expect((await jar.fetch(moved)).status).toBe(400);
  });

  it('an upstream that refuses (consent denied) gives an error page and no session', async () => {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/okta`);
    const callback = await okta.login(start.headers.get('location') as string, user(okta, 'alice'), { consent: false });
    const response = await jar.fetch(callback);
    expect(response.status).toBe(400);
    expect(jar.cookies.has('consulate_session')).toBe(false);
  });

  it('an upstream that is down: a clear error page, quickly, and nothing stored', async () => {
    const before = (await server.deps.store.audit.list()).length;
    const response = await cookieJar().fetch(`${base}/login/down`);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('cannot be reached');
    expect((await server.deps.store.audit.list()).length).toBe(before);
  });

  it('return_to cannot send the browser off-site', async () => {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/okta?return_to=${encodeURIComponent('//evil.example/x')}`);
    const callback = await okta.login(start.headers.get('location') as string, user(okta, 'alice'));
    expect((await jar.fetch(callback)).headers.get('location')).toBe('/session');
  });

  it('sign-out needs the CSRF token and ends the session', async () => {
    const { jar, page } = await logIn(okta, 'okta', 'alice');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const post = (body: string) => jar.fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await post('csrf=nope')).status).toBe(403);
    expect((await jar.fetch(`${base}/session`)).status).toBe(200);
    expect((await post(`csrf=${encodeURIComponent(csrf)}`)).status).toBe(303);
    expect((await jar.fetch(`${base}/session`)).status).toBe(303);
  });
});
