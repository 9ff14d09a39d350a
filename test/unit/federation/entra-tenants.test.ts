// The pure Entra multi-tenant rules: which issuers are multi-tenant authorities, the template
// their discovery must announce, and the issuer a token's tid demands.
import { describe, expect, it } from 'vitest';
import { expectedTenantIssuer, isMultiTenantAuthority, issuerTemplate } from '../../../src/federation/entra-tenants.ts';

const tid = 'b7e4c2a1-5d3f-4e8a-9c6b-1f2e3d4c5b6a';
const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';

describe('Entra multi-tenant authorities', () => {
  it('only /organizations/v2.0 and /common/v2.0 of kind entra', () => {
    expect(isMultiTenantAuthority('entra', 'https://login.microsoftonline.com/organizations/v2.0')).toBe(true);
    expect(isMultiTenantAuthority('entra', 'http://127.0.0.1:8082/common/v2.0/')).toBe(true);
    expect(isMultiTenantAuthority('entra', `https://login.microsoftonline.com/${tid}/v2.0`)).toBe(false);
    expect(isMultiTenantAuthority('entra', 'https://login.microsoftonline.com/consumers/v2.0')).toBe(false);
    expect(isMultiTenantAuthority('okta', 'https://login.microsoftonline.com/organizations/v2.0')).toBe(false);
  });

  it('the template keeps the authority\'s origin', () => {
    expect(issuerTemplate('https://login.microsoftonline.com/organizations/v2.0')).toBe(template);
    expect(issuerTemplate('http://127.0.0.1:8082/common/v2.0')).toBe('http://127.0.0.1:8082/{tenantid}/v2.0');
  });

  it('a tid demands its own issuer, once it is a GUID and allowed', () => {
    expect(expectedTenantIssuer(template, tid, undefined)).toEqual({ ok: true, issuer: `https://login.microsoftonline.com/${tid}/v2.0` });
    expect(expectedTenantIssuer(template, tid, [tid.toUpperCase()])).toMatchObject({ ok: true });
    expect(expectedTenantIssuer(template, tid, ['4d7a9c2e-81b3-4f60-a5d9-0c3e6f1b2a87'])).toEqual({ ok: false, reason: 'tenant_not_allowed' });
    for (const bad of [undefined, 42, '', 'contoso.onmicrosoft.com', `${tid}/../x`, `${tid} `]) {
      expect(expectedTenantIssuer(template, bad, undefined)).toEqual({ ok: false, reason: 'tid_not_a_tenant_id' });
    }
  });
});
