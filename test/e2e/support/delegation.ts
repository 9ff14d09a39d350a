// Delegation test helpers: a person with canonical claims, their Passport from the web app (a code
// as /authorize would issue it, redeemed at /token like the app would), and agent client files.
import { createHash, randomBytes } from 'node:crypto';
import { issueCode } from '../../../src/authorize/code.ts';
import type { PersonGrant } from '../../../src/grants/person-grant.ts';
import { secrets, type TestConsulate } from './consulate.ts';
import { basicAuth, postForm } from './clients.ts';

export const api = 'https://api.demo.example';
export const reports = 'https://reports.example';
export const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
export const idTokenType = 'urn:ietf:params:oauth:token-type:id_token';

export type Person = { sub: string; claims: Record<string, unknown> };

export async function addPerson(server: TestConsulate, id: string, claims: Record<string, unknown>): Promise<Person> {
  const now = server.deps.now();
  const origIss = 'https://upstream.example.test';
  const linked = await server.deps.store.subjects.linkLogin({ origIss, origSub: `u-${id}`, upstreamId: 'okta', linkByEmail: false, newSub: `person-${id}`, now });
  const full = { orig_iss: origIss, orig_sub: `u-${id}`, upstream: 'okta', ...claims, sub: linked.sub };
  await server.deps.store.subjects.saveClaims(linked.sub, full);
  return { sub: linked.sub, claims: full };
}

/** The person's tokens at web-app: Passport for `resource` (default the demo API), ID token. */
export async function personTokens(server: TestConsulate, person: Person, overrides: Partial<PersonGrant> = {}): Promise<{ access_token: string; id_token: string; refresh_token?: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const now = server.deps.now();
  const code = await issueCode(server.deps, {
    sub: person.sub,
    clientId: 'web-app',
    identityScopes: ['openid', 'email'],
    resource: api,
    resourceScopes: ['read-data'],
    redirectUri: 'https://app.example.test/callback',
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    authTime: now - 30,
    acr: 'urn:consulate:acr:mfa',
    amr: ['pwd', 'otp'],
    sid: 'sid-1',
    claims: person.claims,
    ...overrides,
  });
  const response = await postForm(
    server,
    '/token',
    { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.test/callback', code_verifier: verifier },
    { authorization: basicAuth('web-app', secrets['web-app']) },
  );
  if (response.status !== 200) throw new Error(`person tokens: ${response.text}`);
  return response.body as { access_token: string; id_token: string; refresh_token?: string };
}

/** An agent client file (client_secret_basic; the secret is `<id>-secret-…`) with a delegation policy. */
export function agentYaml(id: string, policy: string, resources = `  ${api}:\n    scopes: [read-data, write-data]\n    authorization_details_types: [tool]`, extra = ''): string {
  return [
    `client_id: ${id}`,
    'kind: agent',
    `name: Agent ${id}`,
    'owner: owner@example.test',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: \${env:${envName(id)}}`,
    `grant_types: [client_credentials, ${exchangeGrant}]`,
    'resources:',
    resources,
    'delegation:',
    policy
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n'),
    extra,
  ].join('\n');
}

export const agentSecret = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
export const envName = (id: string) => `${id.toUpperCase().replace(/-/g, '_')}_SECRET_HASH`;
export const agentAuth = (id: string) => ({ authorization: basicAuth(id, agentSecret(id)) });
