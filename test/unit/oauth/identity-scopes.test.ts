import { describe, expect, it } from 'vitest';
import { claimsForScopes, passportIdentityClaims, releasedClaims } from '../../../src/oauth/identity-scopes.ts';

const canonical = {
  sub: 'p-1',
  orig_iss: 'https://login.example/tenant/v2.0',
  orig_sub: 'oid-1',
  upstream: 'entra',
  email: 'alice@contoso.example',
  email_verified: true,
  name: 'Alice',
  groups: ['g1'],
  roles: ['admin'],
  tenant: 't-1',
};

describe('claims released to a client', () => {
  it('without a selection: the standard claims of the granted scopes, nothing provider-specific', () => {
    expect(releasedClaims(canonical, ['openid', 'email'])).toEqual({ sub: 'p-1', orig_iss: canonical.orig_iss, orig_sub: 'oid-1', email: canonical.email, email_verified: true });
    expect(releasedClaims(canonical, ['openid', 'profile', 'groups'])).not.toHaveProperty('tenant');
  });

  it('a selection narrows the standard claims and adds the other canonical claims it names, with openid only', () => {
    const released = releasedClaims(canonical, ['openid', 'email', 'profile'], ['email', 'roles', 'tenant']);
    expect(released).toEqual({ sub: 'p-1', orig_iss: canonical.orig_iss, orig_sub: 'oid-1', email: canonical.email, roles: ['admin'], tenant: 't-1' });
    // A selected standard claim still needs its scope.
    expect(releasedClaims(canonical, ['openid'], ['email'])).not.toHaveProperty('email');
    expect(releasedClaims(canonical, ['email'], ['roles'])).toEqual({});
  });

  it('own properties only: inherited names are never released', () => {
    const inherited = Object.create({ email: 'evil@example.com', roles: ['root'] }) as Record<string, unknown>;
    inherited.sub = 'p-2';
    expect(releasedClaims(inherited, ['openid', 'email'], ['email', 'roles'])).toEqual({ sub: 'p-2' });
    expect(claimsForScopes(inherited, ['email'])).toEqual({});
  });

  it('Passports carry provenance and exactly the selected claims', () => {
    expect(passportIdentityClaims(canonical)).toEqual({ orig_iss: canonical.orig_iss, orig_sub: 'oid-1' });
    expect(passportIdentityClaims(canonical, ['roles', 'email'])).toEqual({ orig_iss: canonical.orig_iss, orig_sub: 'oid-1', roles: ['admin'], email: canonical.email });
  });
});
