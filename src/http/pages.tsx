// Server-rendered pages: plain, accessible HTML with no scripts, never framed, never cached. One
// layout: the operator's product name and logo (branding config), the page title as the only h1,
// the page's content, and the support link; one stylesheet of our own (stylesheet.ts), no inline CSS.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { brandOf } from './branding.ts';

export function Page(props: { c: Context; title: string; children?: Child }) {
  const brand = brandOf(props.c);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${brand.productName}`}</title>
        <link rel="stylesheet" href={brand.stylesheetPath} />
      </head>
      <body>
        <header class="site-header">
          {brand.logoUrl ? <img src={brand.logoUrl} alt="" /> : null}
          <span>{brand.productName}</span>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        {brand.supportUrl ? (
          <footer class="site-footer">
            <a href={brand.supportUrl}>Help and support</a>
          </footer>
        ) : null}
      </body>
    </html>
  );
}

/** Sign-out (POST /logout): a same-origin POST with the browser's CSRF token. */
export function SignOut(props: { csrf: string }) {
  return (
    <form method="post" action="/logout" class="actions">
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit" class="secondary">
        Sign out
      </button>
    </form>
  );
}

export function pageHeaders(c: Context): void {
  c.header('Cache-Control', 'no-store');
  c.header('Content-Security-Policy', brandOf(c).csp);
  c.header('X-Frame-Options', 'DENY');
  c.header('Referrer-Policy', 'no-referrer');
}

/** A page that says what went wrong, and where to go on from (`back`; default: sign in again). */
export function errorPage(
  c: Context,
  status: 200 | 400 | 403 | 404 | 429 | 502 | 504,
  title: string,
  message: string,
  back: { href: string; text: string } = { href: '/login', text: 'Start again' },
): Response | Promise<Response> {
  pageHeaders(c);
  return c.html(
    <Page c={c} title={title}>
      <p role="alert">{message}</p>
      <p>
        <a href={back.href}>{back.text}</a>
      </p>
    </Page>,
    status,
  );
}
