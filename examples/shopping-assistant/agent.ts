// The shopping assistant. No LLM here: a user's request ("buy two pairs of trail running shoes")
// turns into a fixed plan of tool calls — browse the products, look up the deals, pick the best
// match, order it — and every call goes through the SDK's tool authorizer, which gets the Passport
// TOOL_AUTH_CONFIG says the tool needs. The order waits for the person's approval (CIBA); a
// refusal is reported, never worked around. Each step is printed and returned.
import { ConsulateOAuthError, createAgentClient, createToolAuthorizer, type AgentClient, type AgentTokens, type ToolAuth, type ToolPending } from '../../src/sdk/index.ts';
import type { Deal, Order, Product } from './shop-api.ts';
import { ShopError, shopTools, TOOL_AUTH_CONFIG, type PlaceOrderArgs, type ToolName } from './tools.ts';

export type ShoppingAssistantOptions = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  shopUrl: string;
  /** Whom the assistant shops for: their e-mail (verified) or subject at Consulate. */
  person: string;
  /** What they asked for, e.g. "Buy 2 pairs of trail running shoes". */
  request: string;
  /** An agent client to reuse (and its Passport cache); default: a new one for these credentials. */
  agent?: AgentClient;
  /** Where each step is printed; default console.log. */
  log?: (line: string) => void;
  /** Told when the order waits for the person's approval. */
  onApproval?: (pending: ToolPending) => void;
  signal?: AbortSignal;
};

export type Step = { tool: ToolName; auth: string; ok: boolean; summary: string };

export type ShoppingResult = {
  outcome: 'ordered' | 'declined' | 'nothing_found' | 'failed';
  message: string;
  /** For `failed`: the OAuth error code or the shop's error, when there was one. */
  errorCode?: string;
  steps: Step[];
  products?: Product[];
  deals?: Deal[];
  order?: Order;
};

const describeAuth = (auth: ToolAuth): string => {
  if (auth === null) return 'public, no Passport';
  if (auth.type === 'client_credentials') return `the assistant's own Passport, scope ${auth.scope}`;
  return `on behalf of the person, scope ${auth.scope}${auth.approval ? ', approved by them' : ''}`;
};

const numbers: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5 };
const words = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

/** The request as a plan: how many, and the product whose name and category match it best (cheapest on a tie). */
export function planOrder(request: string, products: readonly Product[], deals: readonly Deal[]): { product: Product; price: string; quantity: number } | undefined {
  const asked = words(request);
  const count = asked.map((w) => (/^\d+$/.test(w) ? Number(w) : numbers[w])).find((n) => n !== undefined);
  const quantity = Math.min(Math.max(count ?? 1, 1), 10);
  const priceOf = (p: Product) => deals.find((d) => d.productId === p.id)?.price ?? p.price;
  const scored = products
    .map((product) => ({ product, score: words(`${product.name} ${product.category}`).filter((w) => asked.includes(w)).length, price: priceOf(product) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || Number(a.price) - Number(b.price));
  const best = scored[0];
  return best ? { product: best.product, price: best.price, quantity } : undefined;
}

export async function runShoppingAssistant(options: ShoppingAssistantOptions): Promise<ShoppingResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const agent = options.agent ?? createAgentClient({ issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret, allowInsecureLoopback: true });
  const authorizer = createToolAuthorizer(agent, TOOL_AUTH_CONFIG, {
    ...(options.signal ? { signal: options.signal } : {}),
    onPending: (pending) => {
      log(`  waiting for ${pending.loginHint} to approve "${pending.bindingMessage}" (asks again every ${pending.interval} s)`);
      options.onApproval?.(pending);
    },
  });
  const tools = shopTools(options.shopUrl);
  const person = { loginHint: options.person };
  const steps: Step[] = [];

  /** One tool call: announce it, authorize it, run it, record what happened. */
  async function step<T>(tool: ToolName, args: Record<string, unknown>, run: (passport: AgentTokens | undefined) => Promise<T>, summarize: (value: T) => string): Promise<T> {
    const auth = describeAuth(TOOL_AUTH_CONFIG[tool]);
    log(`→ ${tool} (${auth})`);
    try {
      const value = await authorizer.run(tool, args, person, run);
      const summary = summarize(value);
      steps.push({ tool, auth, ok: true, summary });
      log(`  ${summary}`);
      return value;
    } catch (error) {
      steps.push({ tool, auth, ok: false, summary: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  log(`Request from ${options.person}: "${options.request}"`);
  try {
    const products = await step('getProducts', {}, (p) => tools.getProducts({}, p), (list) => `${list.length} products: ${list.map((p) => `${p.name} ${p.price} ${p.currency}`).join(', ')}`);
    const deals = await step('getAvailableDeals', {}, (p) => tools.getAvailableDeals({}, p), (list) => `${list.length} deals: ${list.map((d) => `${d.name} -${d.percentOff}% ${d.price} ${d.currency}`).join(', ')}`);
    const plan = planOrder(options.request, products, deals);
    if (!plan) {
      const message = `Nothing in the shop matches "${options.request}".`;
      log(message);
      return { outcome: 'nothing_found', message, steps, products, deals };
    }
    const args: PlaceOrderArgs = {
      productId: plan.product.id,
      productName: plan.product.name,
      quantity: plan.quantity,
      total: (Number(plan.price) * plan.quantity).toFixed(2),
      currency: plan.product.currency,
    };
    log(`  plan: ${args.quantity} x ${args.productName} for ${args.total} ${args.currency}`);
    const order = await step('placeOrder', args, (p) => tools.placeOrder(args, p), (o) => `ordered ${o.id}: ${o.quantity} x ${o.productName}, ${o.total} ${o.currency}, for ${o.person} by ${o.actor}`);
    const message = `Ordered ${order.quantity} x ${order.productName} for ${order.total} ${order.currency}.`;
    log(message);
    return { outcome: 'ordered', message, steps, products, deals, order };
  } catch (error) {
    // The person said no: report it, buy nothing.
    if (error instanceof ConsulateOAuthError && error.code === 'access_denied') {
      const message = `${options.person} declined the order: nothing was bought.`;
      log(message);
      return { outcome: 'declined', message, steps };
    }
    if (error instanceof ConsulateOAuthError || error instanceof ShopError) {
      const message = `Could not finish: ${error.message}`;
      log(message);
      const errorCode = error instanceof ConsulateOAuthError ? error.code : error.error;
      return { outcome: 'failed', message, steps, ...(errorCode ? { errorCode } : {}) };
    }
    throw error;
  }
}
