// Metric label values come from closed sets: whatever a caller sends, a label is one of a few known
// values or `other`, so nobody can make Consulate (or Prometheus) hold a new series per request.
import { describe, expect, it } from 'vitest';
import { grantLabel, knownOr, methodLabel, statusClass } from '../../../src/metrics/labels.ts';

describe('metric labels', () => {
  it('grant types by their short names; anything else, or none, is other', () => {
    expect(grantLabel('client_credentials')).toBe('client_credentials');
    expect(grantLabel('urn:ietf:params:oauth:grant-type:token-exchange')).toBe('token_exchange');
    expect(grantLabel('urn:ietf:params:oauth:grant-type:jwt-bearer')).toBe('jwt_bearer');
    expect(grantLabel('urn:openid:params:grant-type:ciba')).toBe('ciba');
    expect(grantLabel('urn:ietf:params:oauth:grant-type:device_code')).toBe('device_code');
    for (const sent of ['urn:example:token-exchange', 'token_exchange', 'CLIENT_CREDENTIALS', '', undefined]) expect(grantLabel(sent)).toBe('other');
  });
  it('config ids as they are, unknown ones as other', () => {
    const upstreams = new Map([['okta', {}]]);
    expect(knownOr(upstreams, 'okta')).toBe('okta');
    expect(knownOr(upstreams, 'Okta')).toBe('other');
    expect(knownOr(upstreams, undefined)).toBe('other');
  });
  it('methods and status classes', () => {
    expect(methodLabel('POST')).toBe('POST');
    expect(methodLabel('PROPFIND')).toBe('other');
    expect([200, 303, 401, 429, 503, 99, 600].map(statusClass)).toEqual(['2xx', '3xx', '4xx', '4xx', '5xx', 'other', 'other']);
  });
});
