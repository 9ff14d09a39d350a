// Routes loaded on the first request that reaches them. Parts of the app most servers never serve
// (the admin API and page: zod-openapi, their schemas, the OpenAPI document) would otherwise be
// loaded at start and cost every server several MB of memory (docs/contributors/benchmarks.md).
//
// The routes built then answer as if app.route() had mounted them in place:
//   1 the app's variables set so far (request id, brand, …) are theirs too;
//   2 their response gets the headers the app's middleware set before (request id, nosniff);
//   3 a path they have no route for goes on to the app's later routes and its not-found answer;
//   4 what they throw and do not handle themselves reaches the app's error handler;
//   5 metrics and spans name the route that answered (answeredRoute), not the lazy pattern.
// A load that fails fails that request through the error handler; the next request loads again.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

declare module 'hono' {
  interface ContextVariableMap {
    /** The route pattern that answered inside lazily loaded routes (see answeredRoute). */
    answeredRoute: string;
  }
}

/** The app's context of a request the loaded routes are answering (they see the same Request). */
type Handoff = { outer: Context; matched: boolean };
const handoffs = new WeakMap<Request, Handoff>();

/** The route pattern that answered this request, lazily loaded routes included. */
export const answeredRoute = (c: Context): string => c.get('answeredRoute') ?? routePath(c);

/** For `app.all(pattern, lazyRoutes(load))`: `load` runs once, on the first request under `pattern`. */
export function lazyRoutes(load: () => Promise<Hono>): MiddlewareHandler {
  let loading: Promise<Hono> | undefined;
  const loaded = () =>
    (loading ??= load().then(inPlace, (error: unknown) => {
      loading = undefined;
      throw error;
    }));
  return async function lazyRoutes(c, next) {
    const routes = await loaded();
    const handoff: Handoff = { outer: c, matched: true };
    handoffs.set(c.req.raw, handoff);
    let response: Response;
    try {
      response = await routes.fetch(c.req.raw, c.env);
    } finally {
      handoffs.delete(c.req.raw);
    }
    if (!handoff.matched) {
      // (3) On to the app's later routes; when none takes it, the route named is the one before this.
      const index = c.req.routeIndex;
      await next();
      if (c.req.routeIndex === index) c.set('answeredRoute', index > 0 ? routePath(c, index - 1) : '');
      return;
    }
    // (2) Hono adds the headers set so far to a returned response once c.res exists: make it exist.
    void c.res;
    return response;
  };
}

/** `routes` behind a first middleware that links them to the app's context of the request (1, 3, 4, 5). */
function inPlace(routes: Hono): Hono {
  const app = new Hono();
  app.use(async function inherit(c, next) {
    const handoff = handoffs.get(c.req.raw);
    if (!handoff) return next();
    for (const [name, value] of Object.entries(handoff.outer.var)) c.set(name as never, value as never);
    try {
      await next();
    } finally {
      if (handoff.matched) handoff.outer.set('answeredRoute', routePath(c));
    }
  });
  app.route('/', routes);
  app.notFound((c) => {
    const handoff = handoffs.get(c.req.raw);
    if (handoff) handoff.matched = false;
    return c.body(null, 404);
  });
  app.onError((error) => {
    throw error;
  });
  return app;
}
