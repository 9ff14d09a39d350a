// Shared by the bench (targets.ts, servers.ts) and consulate-server.ts for the person-token targets
// (authorization_code, refresh_token and token exchange at POST /token): the clients and grant they
// use, and the pool messages (spawn.ts ask, child.ts answer). No imports and no side effects:
// consulate-server.ts starts a server at import time and may run as plain JavaScript (compile.ts).

/** Confidential client of the fixture config (test/fixtures/config/clients/web-app.yaml). */
export const personClient = 'web-app';
export const personRedirectUri = 'https://app.example.test/callback';
export const personResource = 'https://api.demo.example';
/** Granted at "consent": identity scopes (ID token) and one resource scope (the Passport). */
export const personIdentityScopes = ['openid', 'profile', 'email'];
export const personResourceScopes = ['read-data'];
/** The bench config's code lifetime (the most the schema allows), so a pool made before a long run stays valid. */
export const codeTtlSeconds = 600;

/** One pre-made authorization code and the PKCE verifier the client kept for it. */
export type PooledCode = { code: string; verifier: string };
export type PoolRequest = { make: 'codes' | 'refresh_tokens'; count: number };
export type PoolReply = { codes?: PooledCode[]; refreshTokens?: string[]; ms: number };

/** The agent of the token exchange target: exchanges the person's Passport (web-app's) for read-data. */
export const exchangeAgent = 'bench-agent';
export const exchangeAgentSecret = 'bench-agent-secret-0123456789abcdefghijklmnopqrstuv';
export const exchangeAgentYaml = [
  `client_id: ${exchangeAgent}`,
  'kind: agent',
  'owner: owner@example.test',
  'token_endpoint_auth_method: client_secret_basic',
  'secret_hash: ${env:BENCH_AGENT_SECRET_HASH}',
  'grant_types: [urn:ietf:params:oauth:grant-type:token-exchange]',
  'resources:',
  `  ${personResource}:`,
  '    scopes: [read-data]',
  'delegation:',
  '  act_for: { groups: [eng] }',
  `  subject_token_clients: [${personClient}]`,
  '',
].join('\n');
