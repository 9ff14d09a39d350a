// The tool authorizer against a recording stand-in for the agent client: which grant each kind of
// tool uses and with what, that it fails closed (unknown tools, bad config, no person) before any
// request, and that approvals are asked for every call, never reused.
import { describe, expect, it } from 'vitest';
import type { AgentClient, AgentTokens } from '../../../src/sdk/agent-client.ts';
import { createToolAuthorizer, ToolAuthorizationError, type ToolAuthConfig, type ToolPending } from '../../../src/sdk/tools.ts';

const shop = 'https://shop.example';

function fakeAgent() {
  const calls: { grant: string; request: Record<string, unknown>; subjectToken?: string }[] = [];
  let n = 0;
  const tokens = (): AgentTokens => ({ access_token: `passport-${++n}`, token_type: 'Bearer', expires_in: 300 });
  const agent: AgentClient = {
    clientCredentials: async (request = {}) => (calls.push({ grant: 'client_credentials', request }), tokens()),
    exchange: async (subjectToken, request = {}) => (calls.push({ grant: 'exchange', request, subjectToken }), tokens()),
    ciba: async (request) => {
      calls.push({ grant: 'ciba', request });
      request.onPending?.({ auth_req_id: `req-${n}`, interval: 1, expires_in: 60 });
      return tokens();
    },
    deviceCode: async () => {
      throw new Error('not used');
    },
    dpopKeyPair: async () => undefined,
  };
  return { agent, calls };
}

const tools = {
  getProducts: null,
  getDeals: { type: 'client_credentials', scope: 'prices', resource: shop },
  readOrders: { type: 'on_behalf', scope: 'orders', resource: shop, approval: false },
  placeOrder: { type: 'on_behalf', scope: 'payment', resource: shop, approval: true, bindingMessage: (args) => `Buy ${String(args.item)}` },
} satisfies ToolAuthConfig;

describe('tool authorizer', () => {
  it('runs a public tool with no Passport and asks for none', async () => {
    const { agent, calls } = fakeAgent();
    const seen: unknown[] = [];
    expect(await createToolAuthorizer(agent, tools).run('getProducts', {}, undefined, async (p) => (seen.push(p), 'ok'))).toBe('ok');
    expect(seen).toEqual([undefined]);
    expect(calls).toEqual([]);
  });

  it('gets the agent its own Passport for a client-credentials tool', async () => {
    const { agent, calls } = fakeAgent();
    const passport = await createToolAuthorizer(agent, tools).run('getDeals', {}, undefined, async (p) => p);
    expect(passport?.access_token).toBe('passport-1');
    expect(calls).toEqual([{ grant: 'client_credentials', request: { scope: 'prices', resource: shop } }]);
  });

  it('exchanges the person\'s token for an on-behalf tool without approval, and needs that token', async () => {
    const { agent, calls } = fakeAgent();
    const authorizer = createToolAuthorizer(agent, tools);
    await authorizer.passportFor('readOrders', {}, { subjectToken: 'person-token' });
    expect(calls).toEqual([{ grant: 'exchange', request: { scope: 'orders', resource: shop }, subjectToken: 'person-token' }]);
    await expect(authorizer.passportFor('readOrders', {}, { loginHint: 'ada@example.test' })).rejects.toThrow(/subjectToken/);
    expect(calls).toHaveLength(1);
  });

  it('asks the person by CIBA for a tool with approval: its scope, their hint, a message from the arguments', async () => {
    const { agent, calls } = fakeAgent();
    const pending: ToolPending[] = [];
    await createToolAuthorizer(agent, tools, { onPending: (p) => pending.push(p) }).passportFor('placeOrder', { item: 'Trail Runner' }, { loginHint: 'ada@example.test' });
    expect(calls).toEqual([{ grant: 'ciba', request: expect.objectContaining({ scope: 'payment', resource: shop, loginHint: 'ada@example.test', bindingMessage: 'Buy Trail Runner' }) }]);
    expect(pending).toEqual([{ auth_req_id: 'req-0', interval: 1, expires_in: 60, tool: 'placeOrder', loginHint: 'ada@example.test', bindingMessage: 'Buy Trail Runner' }]);
  });

  it('asks again for every call that needs approval: one approval is one action', async () => {
    const { agent, calls } = fakeAgent();
    const authorizer = createToolAuthorizer(agent, tools);
    const first = await authorizer.passportFor('placeOrder', { item: 'A' }, { loginHint: 'ada@example.test' });
    const second = await authorizer.passportFor('placeOrder', { item: 'A' }, { loginHint: 'ada@example.test' });
    expect(calls.map((c) => c.grant)).toEqual(['ciba', 'ciba']);
    expect(first?.access_token).not.toBe(second?.access_token);
  });

  it('refuses before any request: no hint, a binding message too long, an unknown tool', async () => {
    const { agent, calls } = fakeAgent();
    const authorizer = createToolAuthorizer(agent, tools);
    let ran = 0;
    const fn = async () => ++ran;
    await expect(authorizer.run('placeOrder', { item: 'A' }, { subjectToken: 't' }, fn)).rejects.toThrow(/loginHint/);
    await expect(authorizer.run('placeOrder', { item: 'x'.repeat(200) }, { loginHint: 'ada@example.test' }, fn)).rejects.toThrow(/binding message/);
    await expect(authorizer.run('deleteAccount', {}, undefined, fn)).rejects.toThrow(ToolAuthorizationError);
    await expect(authorizer.run('toString', {}, undefined, fn)).rejects.toThrow(/not a configured tool/);
    expect(ran).toBe(0);
    expect(calls).toEqual([]);
  });

  it('refuses a config it does not understand at creation, so no tool turns public by a typo', () => {
    const { agent } = fakeAgent();
    const bad = (config: unknown) => () => createToolAuthorizer(agent, config as ToolAuthConfig);
    expect(bad({ buy: { type: 'ciba', scope: 'payment' } })).toThrow(/unknown authorization type "ciba"/);
    expect(bad({ buy: undefined })).toThrow(/unknown authorization type/);
    expect(bad({ buy: { type: 'client_credentials' } })).toThrow(/scope is required/);
    expect(bad({ buy: { type: 'on_behalf', scope: 'payment' } })).toThrow(/approval: true or false/);
  });
});
