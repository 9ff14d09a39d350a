// People sign in through an Entra multi-tenant authority (…/organizations/v2.0): discovery
// announces the {tenantid} issuer template, each ID token carries its own tenant's issuer and tid.
// The stand-in runs one real provider per tenant, all signing with one key (as Entra does), so
// only the tid/iss checks and allowed_tenants keep other organisations out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieJar, freePort } from './support/browser.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { accountFor, footprint } from './support/rows.ts';
import { DEFAULT_ENTRA_TENANT_ID as CONTOSO, defaultTenantAccounts, FABRIKAM_ENTRA_TENANT_ID as FABRIKAM, startUpstream, type Upstream } from './support/upstreams.ts';

const secret = 'multi-tenant-secret-0123456789abcdef';
const NOT_A_GUID = 'contoso.onmicrosoft.com';

/** Accounts per tenant: the defaults, plus two that a misbehaving IdP would produce. */
function tenants() {
  const accounts = defaultTenantAccounts();
  // Issued by Fabrikam's provider (iss = Fabrikam's issuer) but claiming Contoso's tid.
  accounts[FABRIKAM]!.push({ id: 'eve-sub', username: 'eve@fabrikam.example', claims: { oid: 'e0e0e0e0-0000-4000-8000-000000000001', tid: CONTOSO, name: 'Eve' } });
  // A tenant whose id is not a GUID: iss and tid agree, but tid is not a tenant id.
  accounts[NOT_A_GUID] = [{ id: 'dan-sub', username: 'dan@contoso-domain.example', claims: { oid: 'd0d0d0d0-0000-4000-8000-000000000002', name: 'Dan' } }];
  return accounts;
}

describe('Entra multi-tenant authority', () => {
  let server: TestConsulate;
  let entra: Upstream;
  let base: string;
  const oid = (username: string) => entra.accounts.find((a) => a.username === username)!.claims.oid as string;
  const tenantIssuer = (tid: string) => `${entra.url}/${tid}/v2.0`;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    entra = await startUpstream({
      kind: 'entra',
      multiTenant: { tenants: tenants() },
      clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`${base}/callback/contoso-only`, `${base}/callback/any-org`] }],
    });
    const yaml = (id: string, extra: string[] = []) =>
      [`id: ${id}`, 'kind: entra', `issuer: ${entra.authority}`, 'client_id: consulate', 'client_secret: ${env:ENTRA_SECRET}', ...extra].join('\n');
    server = await startConsulate({
      port,
      env: { ENTRA_SECRET: secret },
      files: {
        'upstreams/contoso-only.yaml': yaml('contoso-only', [`allowed_tenants: [${CONTOSO}]`]),
        'upstreams/any-org.yaml': yaml('any-org'),
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await entra?.close();
  });

  async function attempt(upstreamId: string, username: string) {
    const jar = cookieJar();
    const start = await jar.fetch(`${base}/login/${upstreamId}?return_to=/session`);
    expect(start.status).toBe(303);
    const callback = new URL(await entra.login(start.headers.get('location') as string, username));
    const response = await jar.fetch(callback);
    return { jar, callback, response, html: await response.text() };
  }

  async function expectRefused(upstreamId: string, username: string, why: RegExp) {
    const before = await footprint(server);
    const { jar, response, html } = await attempt(upstreamId, username);
    expect(response.status).toBe(400);
    expect(html).toContain('Sign-in could not be completed');
    expect(html).not.toMatch(/\bat .+\.(ts|js):\d+/);
    expect(jar.cookies.has('consulate_session')).toBe(false);
    expect((await jar.fetch(`${base}/session`)).status).toBe(303);
    expect(await footprint(server)).toEqual(before);
    expect(accountFor(server, oid(username))).toBeUndefined();
    const failure = server.logs.filter((l) => l.msg === 'upstream login failed').at(-1);
    expect(String(failure?.detail)).toMatch(why);
  }

  it('discovery at the authority announces the {tenantid} template and no RFC 9207 iss', async () => {
    expect(entra.discoveryUrl).toBe(`${entra.url}/organizations/v2.0/.well-known/openid-configuration`);
    const metadata = (await (await fetch(entra.discoveryUrl)).json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(`${entra.url}/{tenantid}/v2.0`);
    expect(metadata.token_endpoint).toBe(`${entra.url}/organizations/oauth2/v2.0/token`);
    expect(metadata.authorization_response_iss_parameter_supported).toBeUndefined();
  });

  it('a Contoso person signs in: the session names the concrete tenant issuer', async () => {
    const { jar, callback, response } = await attempt('contoso-only', 'alice@contoso.example');
    expect(callback.searchParams.has('iss')).toBe(false);
    expect(response.status).toBe(303);
    expect((await jar.fetch(`${base}/session`)).status).toBe(200);
    const login = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.upstream').at(-1)!;
    expect(login.details).toMatchObject({ upstream: 'contoso-only', orig_iss: tenantIssuer(CONTOSO), orig_sub: oid('alice@contoso.example') });
    expect(accountFor(server, oid('alice@contoso.example'))).toEqual({ orig_iss: tenantIssuer(CONTOSO), upstream_id: 'contoso-only' });
  });

  it('a tenant not in allowed_tenants is refused: error page, no session, nothing stored', async () => {
    await expectRefused('contoso-only', 'carol@fabrikam.example', /tenant_not_allowed/);
  });

  it('an ID token whose iss is not its tid\'s issuer is refused, even for an allowed tid', async () => {
    await expectRefused('contoso-only', 'eve@fabrikam.example', /"iss" \(issuer\)/);
  });

  it('a tid that is not a GUID is refused, even when iss matches it', async () => {
    await expectRefused('any-org', 'dan@contoso-domain.example', /tid_not_a_tenant_id/);
  });

  it('without allowed_tenants, a person of another organisation signs in at their own tenant issuer', async () => {
    const { response } = await attempt('any-org', 'carol@fabrikam.example');
    expect(response.status).toBe(303);
    expect(accountFor(server, oid('carol@fabrikam.example'))).toEqual({ orig_iss: tenantIssuer(FABRIKAM), upstream_id: 'any-org' });
  });
});
