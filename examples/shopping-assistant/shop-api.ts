// The shop's API, as a small resource server guarded by the SDK (like src/demo/demo-api.ts):
//   GET  /products  public
//   GET  /deals     a Passport for the shop with scope `prices` (the agent's own is enough)
//   POST /orders    scope `payment` AND on behalf of a person: `sub` the person, `act.sub` the agent
// An order records who it was for, who acted and the approval it was placed under; an approval
// buys one order only (a second use is 409), so one "yes" from the person is never two purchases.
// It serves its RFC 9728 metadata. Example only: orders live in memory, a bounded few.
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPassportGuard, passportGuard, protectedResourceMetadata, protectedResourceMetadataPath, type Passport, type PassportEnv, type PassportGuardOptions } from '../../src/sdk/index.ts';

export const shopResource = 'https://shop.demo.example';

export type Product = { id: string; name: string; category: string; price: string; currency: string };
export type Deal = { productId: string; name: string; percentOff: number; price: string; currency: string };
export type Order = {
  id: string;
  productId: string;
  productName: string;
  quantity: number;
  total: string;
  currency: string;
  /** The person it was bought for (the Passport's sub). */
  person: string;
  /** Who acted for them (act.sub), and the client that presented the Passport. */
  actor: string;
  clientId: string | undefined;
  /** The approval the person gave (the Passport's `approval`), when there was one. */
  approval: string | undefined;
  at: string;
};
/** What the API saw of each guarded call (for the example's output and the tests). */
export type Call = { route: string; sub: string; clientId: string | undefined; scope: string; act: string | undefined };

export type ShopApiOptions = {
  issuer: string;
  resource?: string;
  host?: string;
  /** Default 0: any free port. */
  port?: number;
} & Partial<Pick<PassportGuardOptions, 'jwksUri' | 'fetch' | 'now'>>;

export type ShopApi = { url: string; resource: string; metadataUrl: string; orders: readonly Order[]; calls: readonly Call[]; close(): Promise<void> };

// Prices in cents: no floating point near money.
const catalogue = [
  { id: 'trail-runner', name: 'Trail Runner', category: 'trail running shoes', cents: 8900 },
  { id: 'road-racer', name: 'Road Racer', category: 'road running shoes', cents: 12000 },
  { id: 'city-walker', name: 'City Walker', category: 'walking shoes', cents: 6500 },
  { id: 'summit-hiker', name: 'Summit Hiker', category: 'hiking boots', cents: 14900 },
] as const;
const deals: Record<string, number> = { 'trail-runner': 20, 'city-walker': 10 };
const currency = 'EUR';
const maxOrders = 100;
const maxCalls = 50;
const maxSpentApprovals = 10_000;

const money = (cents: number) => (cents / 100).toFixed(2);
const dealCents = (id: string, cents: number) => Math.round((cents * (100 - (deals[id] ?? 0))) / 100);

/** On behalf of a person: the agent presenting it acts (act.sub) for someone else (sub). */
const onBehalf = (p: Passport) => typeof p.act?.sub === 'string' && p.act.sub === (p.client_id ?? p.azp) && p.sub !== p.act.sub;

const orderBody = (body: unknown): { productId: string; quantity: number } | undefined => {
  const b = body as { productId?: unknown; quantity?: unknown } | undefined;
  if (typeof b?.productId !== 'string' || !Number.isInteger(b.quantity) || (b.quantity as number) < 1 || (b.quantity as number) > 10) return undefined;
  return { productId: b.productId, quantity: b.quantity as number };
};

export async function startShopApi(options: ShopApiOptions): Promise<ShopApi> {
  const resource = options.resource ?? shopResource;
  const host = options.host ?? '127.0.0.1';
  // 1. Listen first: the guard needs the public URL (metadata URL in challenges, DPoP htu).
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const metadataUrl = `${url}${protectedResourceMetadataPath}`;

  // 2. One guard for every route.
  const guard = createPassportGuard({
    issuer: options.issuer,
    resource,
    resourceMetadataUrl: metadataUrl,
    ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const guarded = (scopes: string[]) => passportGuard(guard, { publicUrl: url, scopes });

  const orders: Order[] = [];
  const calls: Call[] = [];
  const spentApprovals = new Map<string, number>(); // approval id → the Passport's exp
  const saw = (c: Context<PassportEnv>, route: string) => {
    const p = c.get('passport');
    calls.push({ route, sub: p.sub, clientId: p.client_id, scope: p.scope ?? '', act: p.act?.sub });
    if (calls.length > maxCalls) calls.shift();
    return p;
  };
  /** Spends an approval once. Entries go when their Passport has expired; full means refuse, not forget. */
  const spend = (approval: string, exp: number): 'ok' | 'spent' | 'full' => {
    if (spentApprovals.has(approval)) return 'spent';
    if (spentApprovals.size >= maxSpentApprovals) {
      const now = Math.floor(Date.now() / 1000);
      for (const [id, until] of spentApprovals) if (until < now - 60) spentApprovals.delete(id);
      if (spentApprovals.size >= maxSpentApprovals) return 'full';
    }
    spentApprovals.set(approval, exp);
    return 'ok';
  };

  // 3. Routes.
  const app = new Hono<PassportEnv>();
  app.get(protectedResourceMetadataPath, protectedResourceMetadata({ resource, authorizationServers: [options.issuer], scopesSupported: ['prices', 'payment'], resourceName: 'Demo Shoe Shop' }));
  app.get('/products', (c) => c.json({ products: catalogue.map((p): Product => ({ id: p.id, name: p.name, category: p.category, price: money(p.cents), currency })) }));
  app.get('/deals', guarded(['prices']), (c) => {
    saw(c, 'GET /deals');
    const list = catalogue.filter((p) => deals[p.id]).map((p): Deal => ({ productId: p.id, name: p.name, percentOff: deals[p.id] as number, price: money(dealCents(p.id, p.cents)), currency }));
    return c.json({ deals: list });
  });
  app.post('/orders', bodyLimit({ maxSize: 4096, onError: (c) => c.json({ error: 'invalid_request', error_description: 'body too large' }, 413) }), guarded(['payment']), async (c) => {
    const passport = saw(c, 'POST /orders');
    // Paying is done for a person, never by an agent for itself.
    if (!onBehalf(passport)) return c.json({ error: 'insufficient_authorization', error_description: 'orders are placed on behalf of a person: the Passport must name the person in sub and the agent in act' }, 403);
    const body = orderBody(await c.req.json().catch(() => undefined));
    if (!body) return c.json({ error: 'invalid_request', error_description: 'send {"productId": "...", "quantity": 1-10}' }, 400);
    const product = catalogue.find((p) => p.id === body.productId);
    if (!product) return c.json({ error: 'unknown_product' }, 404);
    const approval = typeof passport.approval === 'string' ? passport.approval : undefined;
    if (approval !== undefined) {
      const spent = spend(approval, passport.exp ?? 0);
      if (spent === 'spent') return c.json({ error: 'approval_used', error_description: 'this approval was already used for an order: ask the person again' }, 409);
      if (spent === 'full') return c.json({ error: 'temporarily_unavailable' }, 503);
    }
    const order: Order = {
      id: `order-${crypto.randomUUID()}`,
      productId: product.id,
      productName: product.name,
      quantity: body.quantity,
      total: money(dealCents(product.id, product.cents) * body.quantity),
      currency,
      person: passport.sub,
      actor: passport.act?.sub as string,
      clientId: passport.client_id,
      approval,
      at: new Date().toISOString(),
    };
    orders.push(order);
    if (orders.length > maxOrders) orders.shift();
    return c.json({ order }, 201);
  });
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((_error, c) => c.json({ error: 'server_error' }, 500));

  server.on('request', getRequestListener(app.fetch));
  return {
    url,
    resource,
    metadataUrl,
    orders,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
