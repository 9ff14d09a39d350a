// The demo app: a small relying party that `serve --demo` runs for the demo client on its
// loopback redirect URI. It uses openid-client against Consulate like any app would (PAR, PKCE,
// state, nonce, the iss parameter), then shows what it got: the ID token's claims, the Passport's
// claims (its audience is the demo API, so it is not a userinfo token), and a refresh. Demo only: its state lives in memory.
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { listenOn } from '../http/listen.ts';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { ClientConfig } from '../config/schema.ts';

export type DemoApp = { url: string; close(): Promise<void> };

type Visit = { verifier?: string; state?: string; nonce?: string; tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; error?: string };

const cookie = 'demo_app';

export async function startDemoApp(options: { issuer: string; client: ClientConfig; port?: number }): Promise<DemoApp> {
  const registered = new URL(options.client.redirect_uris[0] as string);
  const visits = new Map<string, Visit>();
  let configuration: oidc.Configuration | undefined;
  const server: Server = createServer();
  await listenOn(server, options.port ?? Number(registered.port || 80), registered.hostname.replace(/^\[|\]$/g, ''), 'the demo app');
  const port = (server.address() as AddressInfo).port;
  const base = `${registered.protocol}//${registered.hostname}:${port}`;
  const redirectUri = `${base}${registered.pathname}`;
  const scope = ['openid', 'profile', 'email', 'groups', ...Object.values(options.client.resources).flatMap((r) => r.scopes)].join(' ');
  const resource = options.client.default_resource ?? Object.keys(options.client.resources)[0];

  // Discovery waits for the first visit, so Consulate may start after the app.
  const config = async () => (configuration ??= await oidc.discovery(new URL(options.issuer), options.client.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] }));
  const visit = (c: Context): [string, Visit] => {
    let id = getCookie(c, cookie);
    if (!id || !visits.has(id)) {
      id = randomBytes(24).toString('base64url');
      visits.set(id, {});
      setCookie(c, cookie, id, { httpOnly: true, sameSite: 'Lax', path: '/' });
    }
    return [id, visits.get(id) as Visit];
  };

  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  });

  app.get('/', (c) => {
    const [, v] = visit(c);
    return c.html(<Home visit={v} issuer={options.issuer} name={options.client.name ?? options.client.client_id} />);
  });

  app.post('/login', async (c) => {
    const [, v] = visit(c);
    v.verifier = oidc.randomPKCECodeVerifier();
    v.state = oidc.randomState();
    v.nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(await config(), {
      redirect_uri: redirectUri,
      scope,
      ...(resource ? { resource } : {}),
      code_challenge: await oidc.calculatePKCECodeChallenge(v.verifier),
      code_challenge_method: 'S256',
      state: v.state,
      nonce: v.nonce,
    });
    return c.redirect(url.href, 303);
  });

  app.get(registered.pathname, async (c) => {
    const [, v] = visit(c);
    try {
      if (!v.verifier) throw new Error('no sign-in in progress in this browser');
      const current = new URL(c.req.url);
      const callback = new URL(`${redirectUri}${current.search}`);
      v.tokens = await oidc.authorizationCodeGrant(await config(), callback, { pkceCodeVerifier: v.verifier, expectedState: v.state as string, expectedNonce: v.nonce as string });
      delete v.error;
    } catch (error) {
      v.error = describe(error);
    }
    delete v.verifier;
    return c.redirect('/', 303);
  });

  app.post('/refresh', async (c) => {
    const [, v] = visit(c);
    try {
      if (!v.tokens?.refresh_token) throw new Error('no refresh token');
      v.tokens = await oidc.refreshTokenGrant(await config(), v.tokens.refresh_token);
      delete v.error;
    } catch (error) {
      v.error = describe(error);
    }
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const [id, v] = visit(c);
    const idToken = v.tokens?.id_token;
    visits.delete(id);
    if (!idToken) return c.redirect('/', 303);
    return c.redirect(oidc.buildEndSessionUrl(await config(), { id_token_hint: idToken, post_logout_redirect_uri: `${base}/` }).href, 303);
  });

  server.on('request', getRequestListener(app.fetch));
  return {
    url: `${base}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

const claimsOf = (jwt: string | undefined) => (jwt ? JSON.stringify(decodeJwt(jwt), null, 2) : '');

function Home(props: { visit: Visit; issuer: string; name: string }) {
  const { tokens, error } = props.visit;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.name} · Consulate demo</title>
        {/* Raw tokens are one long word each: they wrap anywhere rather than run out of their box. */}
        <style>{'body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}pre.raw{word-break:break-all}.error{color:#a00}form{display:inline}'}</style>
      </head>
      <body>
        <main>
          <h1>{props.name}</h1>
          <p>A demo app that signs people in with Consulate ({props.issuer}).</p>
          {error ? (
            <p role="alert" class="error">
              {error}
            </p>
          ) : null}
          {tokens ? (
            <>
              <p>
                Signed in as <strong>{String(tokens.claims()?.name ?? tokens.claims()?.email ?? tokens.claims()?.sub)}</strong>.
              </p>
              <form method="post" action="/refresh">
                <button type="submit">Refresh tokens</button>
              </form>{' '}
              <form method="post" action="/logout">
                <button type="submit">Sign out</button>
              </form>
              <h2>ID token claims</h2>
              <pre aria-label="ID token claims">{claimsOf(tokens.id_token)}</pre>
              <h2>Passport (access token) claims</h2>
              <pre aria-label="Passport claims">{claimsOf(tokens.access_token)}</pre>
              <h2>Token response</h2>
              <pre aria-label="Token response">
                {JSON.stringify({ token_type: tokens.token_type, expires_in: tokens.expires_in, scope: tokens.scope, refresh_token: tokens.refresh_token ? `${tokens.refresh_token.slice(0, 8)}… (stored hashed at Consulate)` : undefined }, null, 2)}
              </pre>
              <h2>Raw tokens</h2>
              <pre aria-label="Raw tokens" class="raw">{`id_token:     ${tokens.id_token ?? ''}\naccess_token: ${tokens.access_token}`}</pre>
            </>
          ) : (
            <form method="post" action="/login">
              <button type="submit">Sign in with Consulate</button>
            </form>
          )}
        </main>
      </body>
    </html>
  );
}
