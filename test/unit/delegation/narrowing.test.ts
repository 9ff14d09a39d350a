// The pure parts of delegation: the one policy's verdicts, "only narrowing" of authorization
// details, actor chains and may_act, and exact budget amounts.
import { describe, expect, it } from 'vitest';
import { clientSchema, type ClientConfig } from '../../../src/config/schema.ts';
import { actorsOf, mayAct, nestAct, parseAct } from '../../../src/delegation/act.ts';
import { formatAmount, isSpent, parseAmount, remainingBudget } from '../../../src/delegation/budget.ts';
import { detailsWithin, isWithin } from '../../../src/delegation/details.ts';
import { decideDelegation, type DelegationAsk } from '../../../src/delegation/policy.ts';

const api = 'https://api.example';
const agent = (overrides: Record<string, unknown> = {}): ClientConfig =>
  clientSchema.parse({
    client_id: 'bot',
    kind: 'agent',
    owner: 'owner@example.test',
    token_endpoint_auth_method: 'client_secret_basic',
    secret_hash: 'sha256:x',
    resources: { [api]: { scopes: ['read', 'write'], authorization_details_types: ['payment'], actions: { payment: ['initiate'] } } },
    delegation: { act_for: { groups: ['eng'], people: ['Grace@Example.test'] }, max_chain: 2, max_ttl_seconds: 60 },
    ...overrides,
  });

const ada = { kind: 'person' as const, sub: 'p-ada', claims: { email: 'ada@example.test', groups: ['eng'] } };
const ask = (overrides: Partial<DelegationAsk> = {}): DelegationAsk => {
  const actor = overrides.actor ?? agent();
  const clients = overrides.clients ?? new Map([[actor.client_id, actor]]);
  const states = new Map([...clients].map(([id, client]) => [id, client.state]));
  return { actor, subject: ada, resource: api, scopes: ['read'], details: [], chain: [actor.client_id], ttlSeconds: 300, dpop: false, clients, states, ...overrides };
};

describe('the delegation policy', () => {
  it('allows what the policy names and caps the lifetime', () => {
    expect(decideDelegation(ask())).toEqual({ ok: true, ttlSeconds: 60 });
    expect(decideDelegation(ask({ ttlSeconds: 30 }))).toEqual({ ok: true, ttlSeconds: 30 });
  });
  it('matches people by e-mail (any case) or subject, and groups', () => {
    const grace = { kind: 'person' as const, sub: 'p-grace', claims: { email: 'grace@example.TEST' } };
    expect(decideDelegation(ask({ subject: grace })).ok).toBe(true);
    const bob = { kind: 'person' as const, sub: 'p-bob', claims: { email: 'bob@example.test', groups: ['sales'] } };
    expect(decideDelegation(ask({ subject: bob }))).toMatchObject({ ok: false, code: 'invalid_grant', reason: 'subject_not_allowed' });
    expect(decideDelegation(ask({ subject: { kind: 'client', clientId: 'svc' } }))).toMatchObject({ ok: false, reason: 'subject_not_allowed' });
  });
  it('refuses each limit with its own error', () => {
    expect(decideDelegation(ask({ resource: 'https://other.example' }))).toMatchObject({ ok: false, code: 'invalid_target' });
    expect(decideDelegation(ask({ scopes: ['read', 'admin'] }))).toMatchObject({ ok: false, code: 'invalid_scope' });
    expect(decideDelegation(ask({ details: [{ type: 'tool' }] }))).toMatchObject({ ok: false, code: 'invalid_authorization_details', reason: 'details_type_not_allowed' });
    expect(decideDelegation(ask({ details: [{ type: 'payment', actions: ['refund'] }] }))).toMatchObject({ ok: false, reason: 'details_action_not_allowed' });
    expect(decideDelegation(ask({ details: [{ type: 'payment' }] }))).toMatchObject({ ok: false, reason: 'details_action_not_allowed' });
    expect(decideDelegation(ask({ details: [{ type: 'payment', actions: ['initiate'] }] })).ok).toBe(true);
  });
  it('counts the chain against the limit of every agent in it', () => {
    const other = agent({ client_id: 'other', delegation: { act_for: { anyone: true }, max_chain: 5 } });
    const actor = agent();
    const clients = new Map([['bot', actor], ['other', other]]);
    expect(decideDelegation(ask({ actor: other, chain: ['other', 'bot'], clients })).ok).toBe(true);
    expect(decideDelegation(ask({ actor: other, chain: ['other', 'x', 'bot'], clients: new Map([...clients, ['x', other]]) }))).toMatchObject({ ok: false, reason: 'chain_too_long' });
  });
  it('ends with a suspended or retired actor anywhere in the chain, and requires DPoP when the policy says so', () => {
    expect(decideDelegation(ask({ actor: agent({ state: 'suspended' }) }))).toMatchObject({ ok: false, code: 'unauthorized_client', reason: 'actor_suspended' });
    const retired = agent({ client_id: 'first', state: 'retired' });
    expect(decideDelegation(ask({ chain: ['bot', 'first'], clients: new Map([['bot', agent()], ['first', retired]]) }))).toMatchObject({ ok: false, reason: 'chain_actor_inactive' });
    expect(decideDelegation(ask({ chain: ['bot', 'gone'] }))).toMatchObject({ ok: false, reason: 'chain_actor_inactive' });
    // The states in force (the database's, agents/state.ts) decide for the chain, not the config files.
    const first = agent({ client_id: 'first' });
    const chainAsk = { chain: ['bot', 'first'], clients: new Map([['bot', agent()], ['first', first]]) };
    expect(decideDelegation(ask({ ...chainAsk, states: new Map([['bot', 'active'], ['first', 'suspended']] as const) }))).toMatchObject({ ok: false, reason: 'chain_actor_inactive' });
    const suspendedInFile = agent({ client_id: 'first', state: 'suspended' });
    expect(decideDelegation(ask({ chain: ['bot', 'first'], clients: new Map([['bot', agent()], ['first', suspendedInFile]]), states: new Map([['bot', 'active'], ['first', 'active']] as const) })).ok).toBe(true);
    const strict = agent({ delegation: { act_for: { anyone: true }, dpop: 'required' } });
    expect(decideDelegation(ask({ actor: strict, clients: new Map([['bot', strict]]) }))).toMatchObject({ ok: false, reason: 'dpop_required' });
    expect(decideDelegation(ask({ actor: strict, clients: new Map([['bot', strict]]), dpop: true })).ok).toBe(true);
  });
});

describe('only narrowing of authorization details', () => {
  const granted = { type: 'payment', actions: ['initiate', 'status'], locations: ['https://bank.example'], instructedAmount: { currency: 'EUR', amount: 100 }, creditor: 'ACME' };
  it('accepts the same or narrower', () => {
    expect(isWithin(granted, granted)).toBe(true);
    expect(isWithin({ ...granted, actions: ['status'], instructedAmount: { currency: 'EUR', amount: 20 } }, granted)).toBe(true);
    expect(isWithin({ ...granted, purpose: 'rent' }, granted)).toBe(true);
  });
  it('refuses anything wider', () => {
    expect(isWithin({ ...granted, actions: ['initiate', 'cancel'] }, granted)).toBe(false);
    expect(isWithin({ ...granted, locations: ['https://evil.example'] }, granted)).toBe(false);
    expect(isWithin({ ...granted, instructedAmount: { currency: 'EUR', amount: 101 } }, granted)).toBe(false);
    expect(isWithin({ ...granted, instructedAmount: { currency: 'USD', amount: 1 } }, granted)).toBe(false);
    expect(isWithin({ ...granted, creditor: 'Mallory' }, granted)).toBe(false);
    const { actions: _dropped, ...withoutActions } = granted;
    expect(isWithin(withoutActions, granted)).toBe(false);
    expect(isWithin({ ...granted, actions: 'initiate' }, granted)).toBe(false);
  });
  it('needs a granted entry of the same type for every asked one', () => {
    expect(detailsWithin([{ ...granted, actions: ['status'] }], [granted])).toBe(true);
    expect(detailsWithin([{ ...granted, type: 'tool' }], [granted])).toBe(false);
    expect(detailsWithin([granted], [])).toBe(false);
    expect(detailsWithin([], [granted])).toBe(true);
  });
  it('is not fooled by prototype keys', () => {
    const asked = JSON.parse('{"type":"payment","__proto__":{"creditor":"ACME"},"actions":["status"],"locations":["https://bank.example"],"instructedAmount":{"currency":"EUR","amount":1}}');
    expect(isWithin(asked, granted)).toBe(false);
  });
});

describe('actor chains', () => {
  it('nests the new actor on top and lists actors newest first', () => {
    const chain = nestAct('c', nestAct('b', nestAct('a', undefined)));
    expect(chain).toEqual({ sub: 'c', act: { sub: 'b', act: { sub: 'a' } } });
    expect(actorsOf(chain)).toEqual(['c', 'b', 'a']);
  });
  it('rejects malformed or absurdly deep act claims', () => {
    expect(parseAct({ sub: 1 })).toBe('invalid');
    expect(parseAct('bot')).toBe('invalid');
    let deep: Record<string, unknown> = { sub: 'x' };
    for (let i = 0; i < 12; i++) deep = { sub: `a${i}`, act: deep };
    expect(parseAct(deep)).toBe('invalid');
    expect(parseAct({ sub: 'a', extra: true })).toEqual({ sub: 'a' });
  });
  it('may_act must name the actor (and our issuer, when it names one)', () => {
    expect(mayAct(undefined, 'bot', 'https://as')).toBe(true);
    expect(mayAct({ sub: 'bot' }, 'bot', 'https://as')).toBe(true);
    expect(mayAct({ sub: 'bot', iss: 'https://other' }, 'bot', 'https://as')).toBe(false);
    expect(mayAct({ sub: 'other' }, 'bot', 'https://as')).toBe(false);
    expect(mayAct('bot', 'bot', 'https://as')).toBe(false);
  });
});

describe('budget amounts', () => {
  it('are exact decimals', () => {
    expect(parseAmount('0.1')! + parseAmount('0.2')!).toBe(parseAmount('0.3'));
    expect(parseAmount('100')).toBe(100_000_000);
    expect(formatAmount(parseAmount('12.50')!)).toBe('12.5');
    expect(formatAmount(parseAmount('999999999.999999')!)).toBe('999999999.999999');
    expect(parseAmount('1000000000')).toBeUndefined();
    for (const bad of ['-1', '1e3', '1.2345678', '', 'NaN', '0x10']) expect(parseAmount(bad)).toBeUndefined();
  });
  it('tell what is left and when it is spent', () => {
    const record = { did: 'd', sub: 's', clientId: 'c', origin: 'passport', createdAt: 0, expiresAt: 1, budget: { uses: 3, amountMicros: 5_000_000, currency: 'USD' }, used: { uses: 1, amountMicros: 4_500_000 } };
    expect(remainingBudget(record)).toEqual({ uses: 3, uses_remaining: 2, amount: '5', amount_remaining: '0.5', currency: 'USD' });
    expect(isSpent(record)).toBe(false);
    expect(isSpent({ ...record, used: { uses: 3, amountMicros: 0 } })).toBe(true);
    expect(isSpent({ ...record, used: { uses: 0, amountMicros: 5_000_000 } })).toBe(true);
  });
});
