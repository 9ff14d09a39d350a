// Server-rendered pages: plain, accessible HTML with no scripts, never framed, never cached.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';

export function Page(props: { title: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Consulate</title>
        <style>{'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}label,input,button{display:block;font-size:1rem}input{padding:.4rem;width:100%;margin:.25rem 0 1rem}button,a.button{padding:.5rem 1rem;margin:.25rem 0}.error{color:#a00}'}</style>
      </head>
      <body>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function pageHeaders(c: Context): void {
  c.header('Cache-Control', 'no-store');
  c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
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
    <Page title={title}>
      <p role="alert" class="error">
        {message}
      </p>
      <p>
        <a href={back.href}>{back.text}</a>
      </p>
    </Page>,
    status,
  );
}
