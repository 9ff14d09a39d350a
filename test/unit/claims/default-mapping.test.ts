import { describe, expect, it } from 'vitest';
import { mapDefaultClaims } from '../../../src/claims/default-mapping.ts';

describe('default mapping per upstream kind', () => {
  it('entra: oid names the person, tid the tenant, xms_edov the verified e-mail', () => {
    const claims = { sub: 'pairwise', oid: '00000000-0000-0000-0000-0000000000a1', tid: 'tenant-1', preferred_username: 'Alice@Contoso.example', name: 'Alice', groups: ['g1'], xms_edov: true, auth_time: 100 };
    expect(mapDefaultClaims('entra', 'contoso', 'https://login.example/tenant-1/v2.0', claims)).toEqual({
      orig_iss: 'https://login.example/tenant-1/v2.0',
      orig_sub: '00000000-0000-0000-0000-0000000000a1',
      upstream: 'contoso',
      email: 'alice@contoso.example',
      email_verified: true,
      name: 'Alice',
      groups: ['g1'],
      roles: [],
      tenant: 'tenant-1',
      auth_time: 100,
    });
    expect(mapDefaultClaims('entra', 'contoso', 'x', { ...claims, xms_edov: undefined }).email_verified).toBe(false);
  });

  it('okta: groups and email_verified', () => {
    const mapped = mapDefaultClaims('okta', 'okta', 'https://okta.example/oauth2/default', { sub: '00u1', email: 'bob@okta.example', email_verified: true, groups: ['Everyone', 'Admins'], amr: ['pwd', 'mfa'], acr: 'urn:okta:loa:2fa' });
    expect(mapped).toMatchObject({ orig_sub: '00u1', email_verified: true, groups: ['Everyone', 'Admins'], amr: ['pwd', 'mfa'], acr: 'urn:okta:loa:2fa' });
  });

  it('auth0: namespaced roles; an unverified e-mail stays unverified', () => {
    const mapped = mapDefaultClaims('auth0', 'auth0', 'https://tenant.auth0.example/', { sub: 'auth0|abc', email: 'c@x.example', email_verified: false, 'https://example.com/roles': ['admin', 7] });
    expect(mapped).toMatchObject({ orig_sub: 'auth0|abc', email_verified: false, roles: ['admin'] });
  });

  it('reads own properties only, caps lists, ignores wrong types', () => {
    const hostile = JSON.parse('{"sub":"s","__proto__":{"email":"evil@x.example","email_verified":true},"groups":' + JSON.stringify(Array.from({ length: 500 }, (_, i) => `g${i}`)) + ',"name":42}');
    const mapped = mapDefaultClaims('oidc', 'o', 'https://o.example', hostile);
    expect(mapped.email).toBeUndefined();
    expect(mapped.email_verified).toBe(false);
    expect(mapped.groups).toHaveLength(200);
    expect(mapped).not.toHaveProperty('name');
  });
});
