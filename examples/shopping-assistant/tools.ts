// The shopping assistant's tools: what each needs (TOOL_AUTH_CONFIG, read by the SDK's tool
// authorizer) and what each does (a call to the shop API with the Passport it was given).
// The tools never get tokens themselves: the authorizer hands them one, or none for public ones.
import type { AgentTokens, ToolArgs, ToolAuthConfig } from '../../src/sdk/index.ts';
import { shopResource, type Deal, type Order, type Product } from './shop-api.ts';

export const TOOL_AUTH_CONFIG = {
  // Public: anyone may browse.
  getProducts: null,
  // Business data: the agent's own Passport (client credentials), no person involved.
  getAvailableDeals: { type: 'client_credentials', scope: 'prices', resource: shopResource },
  // Spending a person's money: for that person, who approves this exact order (CIBA).
  placeOrder: {
    type: 'on_behalf',
    scope: 'payment',
    resource: shopResource,
    approval: true,
    bindingMessage: (args) => `Buy ${String(args.quantity)} x ${String(args.productName)} for ${String(args.total)} ${String(args.currency)}`,
  },
} as const satisfies ToolAuthConfig;

export type ToolName = keyof typeof TOOL_AUTH_CONFIG;

export type PlaceOrderArgs = { productId: string; productName: string; quantity: number; total: string; currency: string };

/** A refusal by the shop API, with its status and OAuth-style error. */
export class ShopError extends Error {
  override readonly name = 'ShopError';
  constructor(
    readonly status: number,
    readonly error: string | undefined,
  ) {
    super(`the shop answered ${status}${error ? ` ${error}` : ''}`);
  }
}

async function call<T>(shopUrl: string, path: string, passport: AgentTokens | undefined, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (passport) headers.authorization = `Bearer ${passport.access_token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, shopUrl), { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new ShopError(response.status, typeof body.error === 'string' ? body.error : undefined);
  return body as T;
}

/** The tool implementations against one shop. */
export function shopTools(shopUrl: string) {
  return {
    getProducts: async (_args: ToolArgs, passport: AgentTokens | undefined) => (await call<{ products: Product[] }>(shopUrl, '/products', passport)).products,
    getAvailableDeals: async (_args: ToolArgs, passport: AgentTokens | undefined) => (await call<{ deals: Deal[] }>(shopUrl, '/deals', passport)).deals,
    placeOrder: async (args: PlaceOrderArgs, passport: AgentTokens | undefined) =>
      (await call<{ order: Order }>(shopUrl, '/orders', passport, { method: 'POST', body: { productId: args.productId, quantity: args.quantity } })).order,
  };
}
