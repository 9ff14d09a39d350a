// Requests in plain words: payments, tools, scopes with the resource's descriptions, requests with
// fields missing or of the wrong shape, and strings written to mislead the person reading them.
import { describe, expect, it } from 'vitest';
import { clean, describeDetail, describeRequest, personLabel, type DescribeConfig } from '../../../src/consent/describe.ts';

const api = 'https://api.demo.example';
const bank = 'https://bank.example';

const config = {
  clients: new Map([['helper', { client_id: 'helper', name: 'Helper Bot' }]]),
  resources: new Map([
    [api, { resource: api, name: 'Demo API', scopes: { 'read-data': 'Read your data' }, authorization_details_types: { tool: { description: 'Call one tool of the demo API', schema: {} } } }],
    [bank, { resource: bank, name: 'Bank', scopes: {}, authorization_details_types: { payment: { description: 'pay', schema: {} } } }],
  ]),
} as unknown as DescribeConfig;

describe('describeDetail', () => {
  it('reads a payment as its description with the amount and currency', () => {
    expect(describeDetail({ type: 'payment', instructedAmount: { amount: '100', currency: 'USD' } }, 'pay')).toBe('pay up to 100 USD');
    expect(describeDetail({ type: 'payment', amount: 25.5, currency: 'EUR', creditorName: 'Shop' }, 'pay')).toBe('pay up to 25.5 EUR (creditorName: Shop)');
  });

  it('reads the well-known fields and other strings as key: value', () => {
    const words = describeDetail({ type: 'tool', tool: 'search', actions: ['read', 'call'], locations: ['https://api.demo.example/search'], datatypes: ['contacts'], identifier: 'doc-1' }, 'Call one tool of the demo API');
    expect(words).toBe('Call one tool of the demo API (actions: read, call; at: https://api.demo.example/search; data: contacts; identifier: doc-1; tool: search)');
  });

  it('falls back to the type without a description, and survives missing or odd fields', () => {
    expect(describeDetail({ type: 'custom' })).toBe('custom');
    expect(describeDetail({ type: 'payment', instructedAmount: { amount: '5' } }, 'pay')).toBe('pay (instructedAmount amount: 5)');
    expect(describeDetail({ type: 'x', nested: { deeper: { deepest: 'no' } }, list: [{ a: 1 }], n: null })).toBe('x');
    expect(describeDetail('not an object')).toBe('an authorization detail it did not describe');
    expect(describeDetail({})).toBe('unknown');
  });
});

describe('describeRequest', () => {
  it('a CIBA request: the agent, the person, the message, identity and resource scopes, details', () => {
    const words = describeRequest(config, {
      kind: 'ciba',
      clientId: 'helper',
      person: 'Alice Example',
      request: { identityScopes: ['openid', 'email'], resource: api, resourceScopes: ['read-data', 'unknown-scope'], authorizationDetails: [{ type: 'tool', tool: 'export', actions: ['call'] }], bindingMessage: 'Order 4711' },
    });
    expect(words).toMatchObject({
      client: 'Helper Bot',
      person: 'Alice Example',
      bindingMessage: 'Order 4711',
      identity: ['know who the person is', 'see their e-mail address'],
      resource: 'Demo API',
      asks: ['Read your data', 'unknown-scope', 'Call one tool of the demo API (actions: call; tool: export)'],
      through: [],
    });
    expect(words.summary).toBe(
      'Helper Bot for Alice Example asks to know who the person is; see their e-mail address; Read your data on Demo API; unknown-scope on Demo API; Call one tool of the demo API (actions: call; tool: export) on Demo API. Message: “Order 4711”',
    );
  });

  it('an exchange request: the agent, its act chain, scopes and details under their own names', () => {
    const words = describeRequest(config, {
      kind: 'exchange',
      clientId: 'helper',
      request: { agent: 'helper', actChain: [{ client_id: 'runner' }, 'helper', 42], resource: bank, scopes: [], details: [{ type: 'payment', instructedAmount: { amount: '100', currency: 'USD' } }] },
    });
    expect(words).toMatchObject({ client: 'Helper Bot', through: ['runner', 'Helper Bot'], identity: [], resource: 'Bank', asks: ['pay up to 100 USD'] });
    expect(words.summary).toBe('Helper Bot (through runner, Helper Bot) asks to pay up to 100 USD on Bank');
  });

  it('missing or malformed fields: still words, never a throw', () => {
    const words = describeRequest(config, { kind: 'device', clientId: 'gone', request: { identityScopes: 'openid', resourceScopes: 7, authorizationDetails: 'x', bindingMessage: 12 } });
    expect(words).toMatchObject({ client: 'gone', identity: ['know who the person is'], resource: undefined, asks: [], bindingMessage: undefined });
    expect(words.summary).toBe('gone asks to know who the person is');
    expect(describeRequest(config, { kind: 'ciba', clientId: 'helper', request: {} }).summary).toBe('Helper Bot asks to act for the person');
    expect(describeRequest(config, { kind: 'ciba', clientId: 'helper', request: { resource: api } }).asks).toEqual([]);
  });

  it('hostile strings: no control or bidi characters, bounded length, prototype names are just words', () => {
    const words = describeRequest(config, {
      kind: 'ciba',
      clientId: 'helper',
      request: {
        resource: api,
        resourceScopes: ['__proto__', 'constructor'],
        authorizationDetails: [{ type: '__proto__', note: 'a\u202Egnp.exe\nline two\u0000' }, { type: 'toString' }],
        bindingMessage: `<script>alert(1)</script>\r\nApprove now ${'x'.repeat(500)}`,
      },
    });
    expect(words.asks).toEqual(['__proto__', 'constructor', '__proto__ (note: a gnp.exe line two)', 'toString']);
    expect(words.bindingMessage?.startsWith('<script>alert(1)</script> Approve now x')).toBe(true);
    expect(words.bindingMessage).toHaveLength(200);
    expect(words.bindingMessage?.endsWith('…')).toBe(true);
    expect(words.summary).not.toMatch(/[\u0000-\u001f\u202a-\u202e]/);
    expect(clean('\u2066left\u2069 \u200Bzero')).toBe('left zero');
  });

  it('many details and facts are cut short', () => {
    const detail = Object.fromEntries([['type', 'tool'], ...Array.from({ length: 20 }, (_, i) => [`f${i}`, 'v'])]);
    expect(describeDetail(detail, 'd')).toMatch(/; and 8 more\)$/);
    const many = describeRequest(config, { kind: 'ciba', clientId: 'helper', request: { resource: api, resourceScopes: Array.from({ length: 50 }, (_, i) => `s${i}`) } });
    expect(many.asks).toHaveLength(20);
  });
});

describe('personLabel', () => {
  it('name and e-mail, whichever there is, cleaned', () => {
    expect(personLabel({ name: 'Carol Example', email: 'carol@example.test' })).toBe('Carol Example (carol@example.test)');
    expect(personLabel({ email: 'carol@example.test' })).toBe('carol@example.test');
    expect(personLabel({ name: 'Carol\u202E Example', email: 42 })).toBe('Carol Example');
    expect(personLabel({})).toBeUndefined();
  });
});
