// Claims mapping end to end: people log in through stand-in Entra, Okta and Auth0; what the rule
// sets make of their claims arrives in the ID token, at userinfo and in the Passport, selected per
// client. A mapping file changed while the server runs applies to the next login; a broken one is
// reported at file:line:col and the old rules keep working.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive } from './support/authorize.ts';
import { cookieJar, freePort } from './support/browser.ts';
import { discover } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { ENTRA_GROUPS, startUpstream, type Upstream } from './support/upstreams.ts';
import { hashSecret } from '../../src/clients/secrets.ts';

const appSecret = 'claims-app-secret-0123456789abcdefghijklmnopqrstuv';
const redirectUri = 'https://claims.example.test/callback';
const contosoMapping = (roleOfAdmins: string) =>
  [
    'id: contoso',
    'subject: claims.oid',
    'tables:',
    '  group_roles:',
    `    ${ENTRA_GROUPS.admins}: ${roleOfAdmins}`,
    `    ${ENTRA_GROUPS.engineering}: engineer`,
    'claims:',
    '  email:',
    '    expr: "has(claims.email) ? claims.email : claims.preferred_username"',
    '    transform: [trim, lower]',
    '  email_verified: "has(claims.xms_edov) && claims.xms_edov == true"',
    '  name: claims.name',
    '  roles:',
    '    expr: "claims.groups.filter(g, g in tables.group_roles).map(g, tables.group_roles[g])"',
    '    default: []',
    '    transform: [unique, sort]',
    '  tenant: claims.tid',
    'deny:',
    '  - when: "!has(claims.xms_edov)"',
    '    reason: Guests of Contoso may not sign in here.',
    'require: [email]',
    '',
  ].join('\n');

describe('claims mapping through real logins', () => {
  let server: TestConsulate;
  const upstreams: Record<'entra' | 'okta' | 'auth0', Upstream> = {} as never;
  let config: client.Configuration;

  beforeAll(async () => {
    const port = await freePort();
    const files: Record<string, string> = {
      'mappings/contoso.yaml': contosoMapping('admin'),
      'clients/claims-app.yaml': [
        'client_id: claims-app',
        'token_endpoint_auth_method: client_secret_basic',
        `secret_hash: ${hashSecret(appSecret)}`,
        'grant_types: [authorization_code]',
        'skip_consent: true',
        `redirect_uris: [${redirectUri}]`,
        'claims: [email, name, roles, tenant]',
        'resources:',
        '  https://api.demo.example: { scopes: [read-data] }',
      ].join('\n'),
    };
    const env: Record<string, string> = {};
    for (const kind of ['entra', 'okta', 'auth0'] as const) {
      const secret = `${kind}-mapping-test-secret-0123456789`;
      upstreams[kind] = await startUpstream({ kind, clients: [{ client_id: 'consulate', client_secret: secret, redirect_uris: [`http://127.0.0.1:${port}/callback/${kind}`] }] });
      env[`${kind.toUpperCase()}_SECRET`] = secret;
      files[`upstreams/${kind}.yaml`] = [
        `id: ${kind}`,
        `kind: ${kind}`,
        `issuer: ${upstreams[kind].issuer}`,
        'client_id: consulate',
        `client_secret: \${env:${kind.toUpperCase()}_SECRET}`,
        'scopes: [openid, profile, email, groups]',
        ...(kind === 'entra' ? ['mapping: contoso'] : []),
      ].join('\n');
    }
    files['consulate.yaml'] = 'listen: { host: 127.0.0.1, port: 0 }\nreload: { debounce_ms: 50 }\n';
    server = await startConsulate({ port, env, files });
    config = await discover(server, 'claims-app', client.ClientSecretBasic(appSecret));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    for (const upstream of Object.values(upstreams)) await upstream?.close();
  });

  /** Logs `username` in at `upstream` and returns the token response for `scope` (and `resource`). */
  async function logIn(kind: keyof typeof upstreams, username: string, scope: string, resource?: string) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      ...(resource ? { resource } : {}),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const jar = cookieJar();
    // The chooser link goes straight to the upstream (no home-realm discovery configured here).
    const start = await jar.fetch(url);
    const returnTo = new URL(start.headers.get('location')!, server.url).searchParams.get('return_to')!;
    const outcome = await drive(server, upstreams[kind], jar, `${server.url}/login/${kind}?return_to=${encodeURIComponent(returnTo)}`, { username });
    if (!outcome.location) return { page: outcome.page! };
    return { tokens: await client.authorizationCodeGrant(config, new URL(outcome.location), { pkceCodeVerifier: verifier }) };
  }

  it('Entra through the operator\'s rule set: roles from the group table, tenant, e-mail; in the ID token, userinfo and the Passport', async () => {
    const { tokens } = await logIn('entra', 'alice@contoso.example', 'openid email profile');
    const idToken = tokens!.claims()!;
    expect(idToken).toMatchObject({ email: 'alice@contoso.example', name: 'Alice Anderson', roles: ['admin', 'engineer'], tenant: upstreams.entra.tenantId, orig_sub: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', orig_iss: upstreams.entra.issuer });
    // Not selected by the client: never sent, though the rule set produced it.
    expect(idToken).not.toHaveProperty('email_verified');
    const userinfo = await client.fetchUserInfo(config, tokens!.access_token, idToken.sub);
    expect(userinfo).toMatchObject({ email: 'alice@contoso.example', roles: ['admin', 'engineer'], tenant: upstreams.entra.tenantId });

    const { tokens: api } = await logIn('entra', 'alice@contoso.example', 'openid read-data', 'https://api.demo.example');
    const passport = decodeJwt(api!.access_token);
    expect(passport).toMatchObject({ aud: 'https://api.demo.example', orig_iss: upstreams.entra.issuer, orig_sub: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', roles: ['admin', 'engineer'], email: 'alice@contoso.example' });
  });

  it('a deny rule refuses the login with its reason, shown and recorded; nothing is issued', async () => {
    const { page } = await logIn('entra', 'bob@contoso.example', 'openid email');
    expect(page?.status).toBe(403);
    expect(page?.html).toContain('Guests of Contoso may not sign in here.');
    const denied = (await server.deps.store.audit.list()).filter((r) => r.event === 'login.denied');
    expect(denied.at(-1)?.details).toMatchObject({ upstream: 'entra', reason: 'denied', rule: 0 });
  });

  it('Okta and Auth0 through the presets: groups, namespaced roles, lower-cased e-mail', async () => {
    const okta = (await logIn('okta', 'alice@example.com', 'openid email profile groups')).tokens!.claims()!;
    expect(okta).toMatchObject({ email: 'alice@example.com', name: 'Alice Anderson', orig_iss: upstreams.okta.issuer });
    // groups is a standard claim the client did not select: left out.
    expect(okta).not.toHaveProperty('groups');
    const auth0 = (await logIn('auth0', 'alice@example.com', 'openid email profile')).tokens!.claims()!;
    expect(auth0).toMatchObject({ roles: ['admin'], orig_sub: 'auth0|abc123' });
  });

  it('a mapping file changed while the server runs applies to the next login', async () => {
    writeFileSync(join(server.configDir, 'mappings/contoso.yaml'), contosoMapping('owner'));
    await waitFor(async () => (await logIn('entra', 'alice@contoso.example', 'openid')).tokens!.claims()!.roles as string[] | undefined, (roles) => roles.includes('owner'));
  });

  it('a broken mapping file is reported at file:line:col and the running rules keep working', async () => {
    const file = join(server.configDir, 'mappings/contoso.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('transform: [unique, sort]', 'transform: [unique, sort]\n  nickname: "claims.name +"'));
    const logged = await waitFor(async () => server.logs.find((l) => typeof l.msg === 'string' && (l.msg as string).includes('mappings/contoso.yaml:17:')), Boolean);
    expect(logged!.msg).toMatch(/mappings\/contoso\.yaml:17:\d+ {2}claims\.nickname/);
    expect(await server.reload('test')).toBe(false);
    const { tokens } = await logIn('entra', 'alice@contoso.example', 'openid');
    expect(tokens!.claims()!.roles).toEqual(['engineer', 'owner']);
    expect(tokens!.claims()).not.toHaveProperty('nickname');
    writeFileSync(file, good);
    expect(await server.reload('test')).toBe(true);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
