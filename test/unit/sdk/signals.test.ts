// What the guard believes after signals (src/sdk/signals.ts), with a fixed clock: a revoked
// delegation or Passport is refused for rememberSeconds; an agent's suspension reaches its client,
// subject and act chain; an older event arriving late changes nothing; retirement is final; events
// about another issuer's subjects are ignored.
import { describe, expect, it } from 'vitest';
import { createSignalState, partiesOf } from '../../../src/sdk/signals.ts';

const issuer = 'https://consulate.example';
const ours = 'urn:consulate:secevent:event-type';
const now = 1_800_000_000;
const passport = (claims: Record<string, unknown>) => ({ sub: 'ada', aud: 'https://api.example', ...claims });

describe('signal state', () => {
  it('refuses Passports of a revoked delegation until it has been remembered long enough, and names the stale answers', () => {
    const state = createSignalState({ issuer, rememberSeconds: 600 });
    const stale = state.apply(`${ours}:delegation-revoked`, { did: 'd1', client_id: 'helper', event_timestamp: now }, undefined, now);
    expect(stale?.({ did: 'd1' })).toBe(true);
    expect(stale?.({ did: 'd2' })).toBe(false);
    expect(state.refuses(passport({ did: 'd1' }), now + 599)).toBe(true);
    expect(state.refuses(passport({ did: 'd2' }), now)).toBe(false);
    expect(state.refuses(passport({ did: 'd1' }), now + 600)).toBe(false);
  });

  it('a suspended agent is refused as client, as subject and anywhere in the act chain; resumed, it is not', () => {
    const state = createSignalState({ issuer, rememberSeconds: 600 });
    state.apply(`${ours}:agent-suspended`, { client_id: 'relay', event_timestamp: now }, undefined, now);
    expect(state.refuses(passport({ client_id: 'relay' }), now)).toBe(true);
    expect(state.refuses(passport({ sub: 'relay' }), now)).toBe(true);
    expect(state.refuses(passport({ client_id: 'courier', act: { sub: 'courier', act: { sub: 'relay' } } }), now)).toBe(true);
    expect(state.refuses(passport({ client_id: 'courier', act: { sub: 'courier' } }), now)).toBe(false);
    state.apply(`${ours}:agent-resumed`, { client_id: 'relay', event_timestamp: now + 5 }, undefined, now + 5);
    expect(state.refuses(passport({ client_id: 'relay' }), now + 5)).toBe(false);
    // The suspension arriving again, late (older than the resume): still resumed.
    state.apply(`${ours}:agent-suspended`, { client_id: 'relay', event_timestamp: now }, undefined, now + 6);
    expect(state.refuses(passport({ client_id: 'relay' }), now + 6)).toBe(false);
  });

  it('retirement is final: a later resume changes nothing', () => {
    const state = createSignalState({ issuer, rememberSeconds: 600 });
    state.apply(`${ours}:agent-retired`, { client_id: 'old', event_timestamp: now }, undefined, now);
    state.apply(`${ours}:agent-resumed`, { client_id: 'old', event_timestamp: now + 10 }, undefined, now + 10);
    expect(state.refuses(passport({ client_id: 'old' }), now + 10)).toBe(true);
  });

  it('a revoked Passport (credential-change, jwt_id of this issuer) is refused by jti; another issuer\'s is ignored', () => {
    const state = createSignalState({ issuer, rememberSeconds: 600 });
    const type = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
    state.apply(type, { credential_type: 'passport', change_type: 'revoke' }, { format: 'jwt_id', iss: issuer, jti: 'j1' }, now);
    expect(state.apply(type, { credential_type: 'passport', change_type: 'revoke' }, { format: 'jwt_id', iss: 'https://other.example', jti: 'j2' }, now)).toBeUndefined();
    expect(state.refuses(passport({ jti: 'j1' }), now)).toBe(true);
    expect(state.refuses(passport({ jti: 'j2' }), now)).toBe(false);
  });

  it('session-revoked refuses nothing itself, and names the person\'s (and application\'s) cached answers as stale', () => {
    const state = createSignalState({ issuer, rememberSeconds: 600 });
    const stale = state.apply(
      'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
      { event_timestamp: now },
      { format: 'complex', user: { format: 'iss_sub', iss: issuer, sub: 'ada' }, application: { format: 'opaque', id: 'web-app' } },
      now,
    );
    expect(stale?.({ sub: 'ada', client_id: 'web-app' })).toBe(true);
    expect(stale?.({ sub: 'ada', client_id: 'other-app' })).toBe(false);
    expect(stale?.({ sub: 'bob', client_id: 'web-app' })).toBe(false);
    expect(state.refuses(passport({ client_id: 'web-app' }), now)).toBe(false);
  });

  it('the parties of a Passport: client, subject and every actor, bounded', () => {
    expect(partiesOf({ client_id: 'c', sub: 's', act: { sub: 'a1', act: { sub: 'a2' } } })).toEqual(['c', 's', 'a1', 'a2']);
    let deep: Record<string, unknown> = { sub: 'last' };
    for (let i = 0; i < 100; i++) deep = { sub: `a${i}`, act: deep };
    expect(partiesOf({ act: deep }).length).toBe(32);
  });
});
