// The shopping-assistant example end to end: a real Consulate with the demo's shop resource and
// shopping-assistant agent (config/resources/shop.yaml, config/clients/shopping-assistant.yaml, as
// shipped), the example's shop API, and a person who approves or denies orders through the approval
// inbox's JSON API with their own Passport — as a phone app would. Products are public, deals take
// the agent's own Passport, an order takes the person's approval, once per order.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoppingAssistant, type ShoppingAssistantOptions } from '../../examples/shopping-assistant/agent.ts';
import { startShopApi, type ShopApi } from '../../examples/shopping-assistant/shop-api.ts';
import { TOOL_AUTH_CONFIG, shopTools, type PlaceOrderArgs } from '../../examples/shopping-assistant/tools.ts';
import { createAgentClient, createToolAuthorizer, ToolAuthorizationError, type AgentClient, type ToolAuthConfig } from '../../src/sdk/index.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, personTokens, type Person } from './support/delegation.ts';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');
// The demo secret of config/clients/shopping-assistant.yaml (public on purpose, as in the README).
const clientId = 'shopping-assistant';
const clientSecret = 'Jm2oENqRuR046Ug8-9UvAp3EdOt2Ns6Mop7gmXeFdFQ';
const shop = 'https://shop.demo.example';

type Inboxed = { id: string; binding_message?: string; client: string };

describe('shopping assistant', () => {
  let server: TestConsulate;
  let api: ShopApi;
  let ada: Person;
  let inboxToken: string;
  let agent: AgentClient;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startConsulate({
      files: {
        // Poll every second, not every five: the tests wait for real approvals.
        'consulate.yaml': `${read('test/fixtures/config/consulate.yaml')}\nciba:\n  interval_seconds: 1\n`,
        'resources/shop.yaml': read('config/resources/shop.yaml'),
        'clients/shopping-assistant.yaml': read('config/clients/shopping-assistant.yaml'),
      },
    });
    ada = await addPerson(server, 'ada', { email: 'ada@example.test', email_verified: true, groups: ['Engineering'] });
    await addPerson(server, 'sam', { email: 'sam@example.test', email_verified: true, groups: ['Sales'] });
    // Ada's own Passport for Consulate with the approvals scope: what her phone's inbox app holds.
    inboxToken = (await personTokens(server, ada, { identityScopes: ['openid', 'approvals'], resource: undefined, resourceScopes: [] })).access_token;
    api = await startShopApi({ issuer: server.issuer });
    agent = createAgentClient({ issuer: server.issuer, clientId, clientSecret, allowInsecureLoopback: true });
  });
  afterAll(async () => {
    await api?.close();
    await server?.stop();
  });

  const inbox = async (): Promise<Inboxed[]> => {
    const response = await fetch(`${server.url}/approvals/api`, { headers: { authorization: `Bearer ${inboxToken}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { approvals: Inboxed[] }).approvals;
  };
  /** Ada decides the one request in her inbox, as her phone would; returns what she saw. */
  const decide = async (decision: 'approve' | 'deny'): Promise<Inboxed> => {
    const open = await inbox();
    expect(open).toHaveLength(1);
    const seen = open[0] as Inboxed;
    const response = await fetch(`${server.url}/approvals/api/${seen.id}`, { method: 'POST', headers: { authorization: `Bearer ${inboxToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision }) });
    expect(response.status).toBe(200);
    return seen;
  };
  /** Runs the assistant for Ada; each time it waits for approval, Ada makes the next decision. */
  const assist = (request: string, decisions: ('approve' | 'deny')[], extra: Partial<ShoppingAssistantOptions> = {}) => {
    const seen: Promise<Inboxed>[] = [];
    const result = runShoppingAssistant({
      issuer: server.issuer,
      clientId,
      clientSecret,
      shopUrl: api.url,
      person: 'ada@example.test',
      request,
      agent,
      log: (line) => lines.push(line),
      onApproval: () => {
        const decision = decisions.shift();
        if (decision) seen.push(decide(decision));
      },
      ...extra,
    });
    return { result, seen };
  };

  it('lists products without a token', async () => {
    const response = await fetch(`${api.url}/products`);
    expect(response.status).toBe(200);
    const { products } = (await response.json()) as { products: { id: string; price: string }[] };
    expect(products.map((p) => p.id)).toEqual(['trail-runner', 'road-racer', 'city-walker', 'summit-hiker']);
  });

  it('gets deals with the agent\'s own Passport: client_id and sub the agent, scope prices, no act', async () => {
    const authorizer = createToolAuthorizer(agent, TOOL_AUTH_CONFIG);
    const deals = await authorizer.run('getAvailableDeals', {}, undefined, (passport) => shopTools(api.url).getAvailableDeals({}, passport));
    expect(deals).toContainEqual({ productId: 'trail-runner', name: 'Trail Runner', percentOff: 20, price: '71.20', currency: 'EUR' });
    expect(api.calls.at(-1)).toEqual({ route: 'GET /deals', sub: clientId, clientId, scope: 'prices', act: undefined });
  });

  it('places an order for the person once they approve it, recording who it was for and who acted', async () => {
    const before = api.orders.length;
    const { result, seen } = assist('Buy two pairs of trail running shoes', ['approve']);
    const outcome = await result;
    const [approval] = await Promise.all(seen);
    // Ada was asked about exactly this order, by this agent.
    expect(approval).toMatchObject({ client: clientId, binding_message: 'Buy 2 x Trail Runner for 142.40 EUR' });
    expect(outcome).toMatchObject({ outcome: 'ordered', message: 'Ordered 2 x Trail Runner for 142.40 EUR.' });
    expect(outcome.steps.map((s) => [s.tool, s.ok])).toEqual([['getProducts', true], ['getAvailableDeals', true], ['placeOrder', true]]);
    expect(api.orders).toHaveLength(before + 1);
    expect(api.orders.at(-1)).toMatchObject({ productId: 'trail-runner', quantity: 2, total: '142.40', person: ada.sub, actor: clientId, clientId, approval: approval?.id });
    expect(api.calls.at(-1)).toMatchObject({ route: 'POST /orders', sub: ada.sub, clientId, act: clientId });
    expect(api.calls.at(-1)?.scope.split(' ').sort()).toEqual(['openid', 'payment']);
    expect(lines.join('\n')).toContain('waiting for ada@example.test to approve "Buy 2 x Trail Runner for 142.40 EUR"');
    expect(await inbox()).toEqual([]);
  });

  it('buys nothing when the person denies, and says so', async () => {
    const before = api.orders.length;
    const { result, seen } = assist('Buy walking shoes', ['deny']);
    const outcome = await result;
    expect((await Promise.all(seen))[0]).toMatchObject({ binding_message: 'Buy 1 x City Walker for 58.50 EUR' });
    expect(outcome).toMatchObject({ outcome: 'declined', message: 'ada@example.test declined the order: nothing was bought.' });
    expect(outcome.steps.at(-1)).toMatchObject({ tool: 'placeOrder', ok: false });
    expect(api.orders).toHaveLength(before);
    expect(api.calls.at(-1)?.route).toBe('GET /deals');
  });

  it('asks again for a second order: one approval never covers two', async () => {
    const before = api.orders.length;
    const first = assist('Buy hiking boots', ['approve']);
    await first.result;
    const second = assist('Buy hiking boots', ['approve']);
    expect((await second.result).outcome).toBe('ordered');
    const approvals = await Promise.all([...first.seen, ...second.seen]);
    expect(approvals).toHaveLength(2);
    expect(approvals[0]?.id).not.toBe(approvals[1]?.id);
    const orders = api.orders.slice(before);
    expect(orders.map((o) => o.approval)).toEqual(approvals.map((a) => a.id));
  });

  it('refuses a second order with the same approved Passport at the shop (409)', async () => {
    const authorizer = createToolAuthorizer(agent, TOOL_AUTH_CONFIG, { onPending: () => void decide('approve') });
    const args: PlaceOrderArgs = { productId: 'road-racer', productName: 'Road Racer', quantity: 1, total: '120.00', currency: 'EUR' };
    const passport = await authorizer.passportFor('placeOrder', args, { loginHint: 'ada@example.test' });
    const order = (body: unknown) => fetch(`${api.url}/orders`, { method: 'POST', headers: { authorization: `Bearer ${passport?.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await order({ productId: 'road-racer', quantity: 1 })).status).toBe(201);
    const again = await order({ productId: 'road-racer', quantity: 1 });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'approval_used' });
  });

  it('refuses orders without a token (401, pointing at its metadata) and by the agent for itself (403)', async () => {
    const before = api.orders.length;
    const body = JSON.stringify({ productId: 'trail-runner', quantity: 1 });
    const anonymous = await fetch(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${api.metadataUrl}"`);
    const metadata = await (await fetch(api.metadataUrl)).json();
    expect(metadata).toMatchObject({ resource: shop, authorization_servers: [server.issuer], scopes_supported: ['prices', 'payment'] });

    // The agent may get `payment` for itself, but paying is only ever done for a person.
    const own = await agent.clientCredentials({ resource: shop, scope: 'payment' });
    const byAgent = await fetch(`${api.url}/orders`, { method: 'POST', headers: { authorization: `Bearer ${own.access_token}`, 'content-type': 'application/json' }, body });
    expect(byAgent.status).toBe(403);
    expect(await byAgent.json()).toMatchObject({ error: 'insufficient_authorization' });
    // A deals Passport lacks the scope altogether.
    const prices = await agent.clientCredentials({ resource: shop, scope: 'prices' });
    const withPrices = await fetch(`${api.url}/orders`, { method: 'POST', headers: { authorization: `Bearer ${prices.access_token}`, 'content-type': 'application/json' }, body });
    expect(withPrices.status).toBe(403);
    expect(withPrices.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(api.orders).toHaveLength(before);
  });

  it('cannot shop for someone its delegation does not name: refused before anyone is asked', async () => {
    const before = api.orders.length;
    const { result } = assist('Buy trail running shoes', [], { person: 'sam@example.test' });
    expect(await result).toMatchObject({ outcome: 'failed', errorCode: 'invalid_grant' });
    expect(await server.deps.store.approvals.listOpen(server.deps.now())).toEqual([]);
    expect(api.orders).toHaveLength(before);
  });

  it('never runs an unknown tool, and refuses a config it does not understand', async () => {
    const authorizer = createToolAuthorizer(agent, TOOL_AUTH_CONFIG);
    let ran = false;
    await expect(authorizer.run('deleteAccount', {}, { loginHint: 'ada@example.test' }, async () => (ran = true))).rejects.toThrow(ToolAuthorizationError);
    expect(ran).toBe(false);
    expect(() => createToolAuthorizer(agent, { purchaseItem: { type: 'ciba', scope: 'payment' } } as unknown as ToolAuthConfig)).toThrow(/unknown authorization type "ciba"/);
  });
});
