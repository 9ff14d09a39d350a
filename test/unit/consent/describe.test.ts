// Requests in plain words: payments, tools, scopes with the resource's descriptions, requests with
// fields missing or of the wrong shape, and strings written to mislead the person reading them.
import { describe, expect, it } from 'vitest';
import { clean, describeAsk, describeDetail, describeDetailItem, describeRequest, personLabel, type DescribeConfig } from '../../../src/consent/describe.ts';

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
    expect(words).toBe('Call one tool of the demo API: search (actions: read, call; at: https://api.demo.example/search; data: contacts; identifier: doc-1)');
  });

  it('reads a tool call by the tool’s name, then its arguments one by one, bounded and cleaned', () => {
    const item = describeDetailItem(
      { type: 'tool', tool: 'add_note', arguments: { text: 'Buy milk', due: { day: 'Monday', hour: 9 }, urgent: true, long: `a\u202E${'y'.repeat(400)}` }, actions: ['call'] },
      'Call one tool of the demo API',
    );
    expect(item.text).toBe('Call one tool of the demo API: add_note');
    expect(item.facts).toEqual([
      { label: 'text', value: 'Buy milk' },
      { label: 'due', value: '{"day":"Monday","hour":9}' },
      { label: 'urgent', value: 'true' },
      { label: 'long', value: `a ${'y'.repeat(297)}…` },
      { label: 'actions', value: 'call' },
    ]);
    expect(describeDetail({ type: 'tool', tool: 'add_note', arguments: { text: 'Buy milk' } }, 'Call a tool')).toBe('Call a tool: add_note (text: Buy milk)');
    // An amount among the arguments is an argument, not a limit of the call.
    expect(describeDetail({ type: 'tool', tool: 'send_invoice', arguments: { amount: 1250, currency: 'EUR' } }, 'Call a tool')).toBe('Call a tool: send_invoice (amount: 1250; currency: EUR)');
    // Arguments that are not an object are just another field.
    expect(describeDetail({ type: 'tool', tool: 'x', arguments: 'all' })).toBe('tool: x (arguments: all)');
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
      identity: ['Know who they are (their account id and the organisation they signed in with)', 'See their e-mail address'],
      resource: 'Demo API',
      asks: ['Read your data', 'unknown-scope', 'Call one tool of the demo API: export (actions: call)'],
      through: [],
    });
    expect(words.summary).toBe(
      'Helper Bot for Alice Example asks to know who they are (their account id and the organisation they signed in with); see their e-mail address; read your data on Demo API; unknown-scope on Demo API; call one tool of the demo API: export (actions: call) on Demo API. Message: “Order 4711”',
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
    expect(words).toMatchObject({ client: 'gone', identity: ['Know who they are (their account id and the organisation they signed in with)'], resource: undefined, asks: [], bindingMessage: undefined });
    expect(words.summary).toBe('gone asks to know who they are (their account id and the organisation they signed in with)');
    expect(describeRequest(config, { kind: 'ciba', clientId: 'helper', request: {} }).summary).toBe('Helper Bot asks to act on their behalf');
    const bare = describeRequest(config, { kind: 'ciba', clientId: 'helper', request: { resource: api } });
    expect(bare.asks).toEqual([]);
    expect(bare.summary).toBe('Helper Bot asks to access Demo API on their behalf');
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

describe('describeAsk: one wording for the consent page, the device page and the inbox', () => {
  const ask = { identityScopes: ['openid', 'email'], resource: api, resourceScopes: ['read-data'], authorizationDetails: [{ type: 'tool', tool: 'add_note', arguments: { text: 'Buy milk' } }] };

  it('the person’s own request says "your", someone else’s "their"; the resource’s words are the same for both', () => {
    const own = describeAsk(config, ask, 'person');
    const other = describeAsk(config, ask, 'other');
    expect(own.identity).toEqual(['Know who you are (your account id and the organisation you signed in with)', 'See your e-mail address']);
    expect(other.identity).toEqual(['Know who they are (their account id and the organisation they signed in with)', 'See their e-mail address']);
    expect(own.resource).toBe('Demo API');
    expect(own.items).toEqual(other.items);
    expect(own.items).toEqual([
      { text: 'Read your data', facts: [], more: 0 },
      { text: 'Call one tool of the demo API: add_note', facts: [{ label: 'text', value: 'Buy milk' }], more: 0 },
    ]);
    // The inbox reads a stored request through the same function.
    const stored = describeRequest(config, { kind: 'exchange', clientId: 'helper', request: ask, viewer: 'person' });
    expect(stored.ask).toEqual(own);
  });

  it('says what it means when nothing precise is asked', () => {
    expect(describeAsk(config, { identityScopes: [], resource: api, resourceScopes: [] }, 'person').otherwise).toBe('Access it on your behalf');
    expect(describeAsk(config, { identityScopes: [], resourceScopes: [] }, 'other').otherwise).toBe('Act on their behalf');
    expect(describeAsk(config, { identityScopes: ['openid'], resourceScopes: [] }, 'person').otherwise).toBeUndefined();
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
