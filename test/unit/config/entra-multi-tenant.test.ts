// An Entra upstream may be configured with the multi-tenant authority (…/organizations/v2.0,
// …/common/v2.0) and a tenant allow-list; the {tenantid} template itself, and allowed_tenants
// anywhere else, are refused by `consulate check` at the line to edit.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblems } from '../../../src/config/problems.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

const tenant = 'b7e4c2a1-5d3f-4e8a-9c6b-1f2e3d4c5b6a';
const upstream = (kind: string, issuer: string, extra: string[] = []) =>
  [`id: u`, `kind: ${kind}`, `issuer: ${issuer}`, 'client_id: consulate', 'client_secret: s3cret', ...extra, ''].join('\n');
const load = (text: string) => loadConfig(writeConfigDir({ ...baseFiles, 'upstreams/u.yaml': text }), { env: {} });
const problems = (text: string) => problemsOf(writeConfigDir({ ...baseFiles, 'upstreams/u.yaml': text }));

describe('Entra multi-tenant upstream config', () => {
  it.each(['organizations', 'common'])('accepts the /%s/v2.0 authority, with or without allowed_tenants', (authority) => {
    const issuer = `https://login.microsoftonline.com/${authority}/v2.0`;
    expect(load(upstream('entra', issuer)).upstreams.get('u')?.allowed_tenants).toBeUndefined();
    expect(load(upstream('entra', issuer, [`allowed_tenants: [${tenant}]`])).upstreams.get('u')?.allowed_tenants).toEqual([tenant]);
  });

  it('refuses the {tenantid} template as an issuer, saying what to write instead', () => {
    const text = upstream('entra', 'https://login.microsoftonline.com/{tenantid}/v2.0');
    const found = problems(text);
    expect(found, formatProblems(found)).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: 'issuer', ...positionOf(text, 'https://'), message: expect.stringContaining('…/organizations/v2.0') });
  });

  it('refuses allowed_tenants on a single-tenant issuer and on other kinds', () => {
    for (const text of [
      upstream('entra', `https://login.microsoftonline.com/${tenant}/v2.0`, [`allowed_tenants: [${tenant}]`]),
      upstream('okta', 'https://example.okta.com/organizations/v2.0', [`allowed_tenants: [${tenant}]`]),
    ]) {
      const found = problems(text);
      expect(found, formatProblems(found)).toHaveLength(1);
      expect(found[0]).toMatchObject({ path: 'allowed_tenants', ...positionOf(text, `[${tenant}]`), message: expect.stringContaining('multi-tenant authority') });
    }
  });

  it('refuses a tenant that is not a GUID, and an empty list', () => {
    const issuer = 'https://login.microsoftonline.com/organizations/v2.0';
    const notGuid = problems(upstream('entra', issuer, ['allowed_tenants: [contoso.onmicrosoft.com]']));
    expect(notGuid).toEqual([expect.objectContaining({ path: 'allowed_tenants[0]', message: 'an Entra tenant id (a GUID)' })]);
    expect(problems(upstream('entra', issuer, ['allowed_tenants: []']))).toEqual([expect.objectContaining({ path: 'allowed_tenants' })]);
  });
});
