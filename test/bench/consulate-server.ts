// Consulate server for the benchmark: startServer() (what `consulate serve` runs) on 127.0.0.1:0,
// loaded from the Consulate modules the parent chose (servers.ts): the compiled build (dist/*.js,
// this file then runs on plain Node, see compile.ts) or src/*.ts through tsx. The parent prepares
// the config directory, data directory, config env and, for PostgreSQL, the database. Request logs
// are produced at level info and discarded in-process.
//
// Codes and refresh tokens are single use, so the person-token targets need one per request: the
// parent asks (child.ts ask/answer) for a pool of them before such a target runs, and this process
// makes them the way the server does: codes with issueCode() for a consented person grant (what
// /authorize does), refresh tokens by redeeming such codes with dispatchTokenRequest() (what
// POST /token runs once it has read the form; in-process, about twice as fast as over HTTP here).
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { PersonGrant } from '../../src/grants/person-grant.ts';
import { announce, answer } from './child.ts';
import { personClient, personIdentityScopes, personRedirectUri, personResource, personResourceScopes, type PooledCode, type PoolReply, type PoolRequest } from './person.ts';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required (set by test/bench/servers.ts)`);
  return value;
};
const modules = required('BENCH_CONSULATE_MODULES');
const extension = required('BENCH_CONSULATE_EXTENSION');
const configDir = required('BENCH_CONFIG_DIR');
const dataDir = required('BENCH_DATA_DIR');
const configEnv = JSON.parse(required('BENCH_CONFIG_ENV')) as NodeJS.ProcessEnv;
const webAppAuth = required('BENCH_WEB_APP_AUTH');
// Optional (npm run bench:postgres): a PostgreSQL database instead of SQLite in dataDir, and the
// issuer of the first node when several share the database.
const databaseUrl = process.env.BENCH_DATABASE_URL;
const issuer = process.env.BENCH_ISSUER;

/** A Consulate module by its path under src/ without extension, from the chosen build. */
const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(modules, `${path}${extension}`)).href) as Promise<T>;
const [{ startServer }, { createLogger }, { issueCode }, { dispatchTokenRequest }, { parseFormParams }] = await Promise.all([
  load<typeof import('../../src/main.ts')>('main'),
  load<typeof import('../../src/log.ts')>('log'),
  load<typeof import('../../src/authorize/code.ts')>('authorize/code'),
  load<typeof import('../../src/grants/dispatch.ts')>('grants/dispatch'),
  load<typeof import('../../src/oauth/params.ts')>('oauth/params'),
]);

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const server = await startServer({ configDir, env: configEnv, overrides: { dataDir, host: '127.0.0.1', port: 0, ...(databaseUrl ? { databaseUrl } : {}), ...(issuer ? { issuer } : {}) }, log: createLogger('info', discard) });
const { deps } = server;

// One person who signed in upstream and consented to web-app (as token-grants.test.ts sets up):
// refreshes read the person's latest claims from the store.
const login = { orig_iss: 'https://upstream.example.test', orig_sub: 'u-bench', upstream: 'okta', email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace', groups: ['eng'], roles: [] };
const { sub } = await deps.store.subjects.linkLogin({ origIss: login.orig_iss, origSub: login.orig_sub, upstreamId: 'okta', linkByEmail: false, newSub: 'person-bench', now: deps.now() });
await deps.store.subjects.saveClaims(sub, { ...login, sub });

const grant = (codeChallenge: string, nonce: string): PersonGrant => ({
  sub,
  clientId: personClient,
  identityScopes: personIdentityScopes,
  resource: personResource,
  resourceScopes: personResourceScopes,
  nonce,
  redirectUri: personRedirectUri,
  codeChallenge,
  authTime: deps.now() - 60,
  acr: 'urn:consulate:acr:mfa',
  amr: ['pwd', 'otp'],
  sid: 'bench-sid',
  claims: { ...login, sub },
});

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

async function makeCodes(count: number): Promise<PooledCode[]> {
  const codes: PooledCode[] = [];
  for (let i = 0; i < count; i++) {
    const verifier = b64(32);
    codes.push({ code: await issueCode(deps, grant(s256(verifier), b64(16))), verifier });
  }
  return codes;
}

/** Redeems fresh codes as POST /token would (client authentication included) and keeps the refresh tokens. */
async function makeRefreshTokens(count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (const { code, verifier } of await makeCodes(count)) {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: personRedirectUri, code_verifier: verifier }).toString();
    const { response } = await dispatchTokenRequest(deps, { authorization: webAppAuth, params: parseFormParams(form) });
    if (typeof response.refresh_token !== 'string') throw new Error(`redeeming a code for the refresh pool gave no refresh token: ${JSON.stringify(response).slice(0, 300)}`);
    tokens.push(response.refresh_token);
  }
  return tokens;
}

answer(async (request) => {
  const { make, count } = request as Partial<PoolRequest>;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw new Error(`pool size must be a positive integer, got ${String(count)}`);
  const started = performance.now();
  if (make === 'codes') {
    const codes = await makeCodes(count);
    return { codes, ms: performance.now() - started } satisfies PoolReply;
  }
  if (make === 'refresh_tokens') {
    const refreshTokens = await makeRefreshTokens(count);
    return { refreshTokens, ms: performance.now() - started } satisfies PoolReply;
  }
  throw new Error(`unknown pool ${String(make)}`);
});
announce(server.url, () => server.close());
