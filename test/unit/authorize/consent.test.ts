import { describe, expect, it } from 'vitest';
import { consentCovers, rememberConsent } from '../../../src/authorize/consent.ts';
import type { Deps } from '../../../src/deps.ts';
import type { ConsentRecord } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';

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

  it('allowing only authorization details at a resource leaves no standing consent to access it', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const deps = { store, now: () => 1 } as unknown as Deps;
      const api = 'https://api.demo.example';
      // The page listed openid and one tool call; it never showed "Access it on your behalf".
      await rememberConsent(deps, 'p1', { clientId: 'web-app', ...ask(['openid'], api, [], [{ type: 'tool' }]) });
      const record = await store.consents.find('p1', 'web-app');
      expect(consentCovers(record, ask(['openid']))).toBe(true);
      expect(consentCovers(record, ask(['openid'], api))).toBe(false);
      // Access without scopes or details was shown (and allowed) on its own: that one is remembered.
      await rememberConsent(deps, 'p1', { clientId: 'web-app', ...ask(['openid'], api) });
      expect(consentCovers(await store.consents.find('p1', 'web-app'), ask(['openid'], api))).toBe(true);
    } finally {
      await store.close();
    }
  });
});
