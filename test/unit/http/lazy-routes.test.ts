// Lazily loaded routes answer exactly as the same routes mounted with app.route(): the same status,
// body and headers (those the app's middleware set included), the app's variables, a fall-through
// to the app's later routes, its error handler, and the route named to metrics. They load once, on
// the first request under their pattern; a load that fails fails that request only.
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { describe, expect, it } from 'vitest';
import { answeredRoute, lazyRoutes } from '../../../src/http/lazy-routes.ts';

declare module 'hono' {
  interface ContextVariableMap {
    who: string;
  }
}

/** Routes under /admin, one of them a sub-app with its own error handler (as the admin API has). */
function adminRoutes(): Hono {
  const api = new Hono().basePath('/admin/v1');
  api.onError((error, c) => c.json({ handledBy: 'api', message: error.message }, 418));
  api.get('/things/:id', (c) => c.json({ id: c.req.param('id'), requestId: c.get('requestId'), who: c.get('who') }));
  api.get('/fail', () => {
    throw new Error('api failed');
  });
  const page = new Hono();
  page.get('/admin', (c) => {
    c.header('X-Inner', 'page');
    return c.html(`<p>${c.get('who')}</p>`);
  });
  page.post('/admin/things/:id', async (c) => c.json({ id: c.req.param('id'), form: Object.fromEntries(new URLSearchParams(await c.req.text())) }, 201));
  page.get('/admin/boom', () => {
    throw new Error('page failed');
  });
  return new Hono().route('/', api).route('/', page);
}

/** An app shaped like createApp: request id, a variable and a header set before next(), metrics after it, onError, notFound, a later route. */
function appWith(mount: (app: Hono) => void) {
  const routes: string[] = [];
  const app = new Hono();
  app.use(requestId());
  app.use(async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff');
    c.set('who', 'operator');
    await next();
    routes.push(answeredRoute(c));
  });
  app.onError((error, c) => c.json({ handledBy: 'app', message: error.message, requestId: c.get('requestId') }, 500));
  app.notFound((c) => c.json({ handledBy: 'app', error: 'not_found' }, 404));
  app.get('/token', (c) => c.text('token'));
  mount(app);
  app.get('/admin/later', (c) => c.text('a later route'));
  return { app, routes };
}

const requests: [string, RequestInit?][] = [
  ['/admin'],
  ['/admin', { method: 'HEAD' }],
  ['/admin/v1/things/42'],
  ['/admin/v1/fail'],
  ['/admin/boom'],
  ['/admin/things/7', { method: 'POST', body: 'a=1&b=two', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
  ['/admin/later'],
  ['/admin/nothing-here'],
  ['/admin/v1/things/42', { method: 'DELETE' }],
  ['/token'],
];

async function answer(app: Hono, [path, init]: [string, RequestInit?]) {
  const response = await app.request(path, { ...init, headers: { ...init?.headers, 'X-Request-Id': 'req-1' } });
  return { status: response.status, body: await response.text(), headers: Object.fromEntries(response.headers) };
}

describe('lazyRoutes', () => {
  it('answers every request as the same routes mounted with app.route() do', async () => {
    const eager = appWith((app) => app.route('/', adminRoutes()));
    const lazy = appWith((app) => app.all('/admin/*', lazyRoutes(async () => adminRoutes())));
    for (const request of requests) expect(await answer(lazy.app, request), `${request[1]?.method ?? 'GET'} ${request[0]}`).toEqual(await answer(eager.app, request));
    expect(lazy.routes).toEqual(eager.routes);
    // The answers compared are the real ones (not two empty ones):
    expect(await answer(lazy.app, ['/admin/v1/things/42'])).toMatchObject({ status: 200, body: JSON.stringify({ id: '42', requestId: 'req-1', who: 'operator' }), headers: { 'x-request-id': 'req-1', 'x-content-type-options': 'nosniff' } });
    expect(await answer(lazy.app, ['/admin/boom'])).toMatchObject({ status: 500, body: JSON.stringify({ handledBy: 'app', message: 'page failed', requestId: 'req-1' }) });
    expect(await answer(lazy.app, ['/admin/later'])).toMatchObject({ status: 200, body: 'a later route' });
    expect(lazy.routes.slice(0, 3)).toEqual(['/admin', '/admin', '/admin/v1/things/:id']);
  });

  it('loads once, on the first request under its pattern, however many arrive at once', async () => {
    let loads = 0;
    const { app } = appWith((a) =>
      a.all(
        '/admin/*',
        lazyRoutes(async () => {
          loads += 1;
          return adminRoutes();
        }),
      ),
    );
    expect((await app.request('/token')).status).toBe(200);
    expect(loads).toBe(0);
    const answers = await Promise.all([app.request('/admin'), app.request('/admin/v1/things/1'), app.request('/admin')]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await app.request('/admin')).status).toBe(200);
    expect(loads).toBe(1);
  });

  it('a load that fails fails that request through the app error handler, and the next request loads again', async () => {
    let loads = 0;
    const { app } = appWith((a) =>
      a.all(
        '/admin/*',
        lazyRoutes(async () => {
          loads += 1;
          if (loads === 1) throw new Error('module not found');
          return adminRoutes();
        }),
      ),
    );
    const failed = await app.request('/admin', { headers: { 'X-Request-Id': 'req-2' } });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ handledBy: 'app', message: 'module not found', requestId: 'req-2' });
    expect((await app.request('/token')).status).toBe(200);
    const next = await app.request('/admin');
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('<p>operator</p>');
    expect(loads).toBe(2);
  });
});
