import { describe, expect, it } from 'vitest';
import { consentCovers } from '../../../src/authorize/consent.ts';
import type { ConsentRecord } from '../../../src/store/ports.ts';

const remembered: ConsentRecord = {
  sub: 'p1',
  clientId: 'web-app',
  scopes: ['openid', 'email', 'https://api.demo.example read-data'],
  resources: ['https://api.demo.example'],
  detailsTypes: [],
  grantedAt: 0,
};
const ask = (identityScopes: string[], resource?: string, resourceScopes: string[] = [], details?: { type: string }[]) => ({ identityScopes, resource, resourceScopes, authorizationDetails: details });

describe('remembered consent', () => {
  it('covers what was granted and any part of it', () => {
    expect(consentCovers(remembered, ask(['openid', 'email'], 'https://api.demo.example', ['read-data']))).toBe(true);
    expect(consentCovers(remembered, ask(['openid']))).toBe(true);
  });

  it('does not cover a new identity scope, a new resource scope, or another resource', () => {
    expect(consentCovers(remembered, ask(['openid', 'profile']))).toBe(false);
    expect(consentCovers(remembered, ask(['openid'], 'https://api.demo.example', ['write-data']))).toBe(false);
    // The same scope name at another resource is another permission.
    expect(consentCovers(remembered, ask(['openid'], 'https://reports.example', ['read-data']))).toBe(false);
  });

  it('never covers authorization details (they are transactional), nor anything without a record', () => {
    expect(consentCovers(remembered, ask(['openid'], 'https://api.demo.example', [], [{ type: 'tool' }]))).toBe(false);
    expect(consentCovers(undefined, ask(['openid']))).toBe(false);
  });

  it('a scope string that tries to look like a resource scope cannot match one', () => {
    // Identity scopes are plain tokens; "resource scope" entries contain a space no scope token can.
    expect(consentCovers(remembered, ask(['https://api.demo.example']))).toBe(false);
  });
});
