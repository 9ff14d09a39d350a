// Consulate server for the benchmark: startServer() from src/main.ts on 127.0.0.1:0 with the test
// fixture config copied into BENCH_DIR (as the e2e tests do), a SQLite store in BENCH_DIR/data and
// the fixture client secret hashes. Request logs are produced at level info and discarded.
//
// Codes and refresh tokens are single use, so the person-token targets need one per request: the
// parent asks (child.ts ask/answer) for a pool of them before such a target runs, and this process
// makes them the way the server does: codes with issueCode() for a consented person grant (what
// /authorize does), refresh tokens by redeeming such codes with dispatchTokenRequest() (what
// POST /token runs once it has read the form; in-process, about twice as fast as over HTTP here).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { issueCode } from '../../src/authorize/code.ts';
import { hashSecret } from '../../src/clients/secrets.ts';
import { dispatchTokenRequest } from '../../src/grants/dispatch.ts';
import type { PersonGrant } from '../../src/grants/person-grant.ts';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/main.ts';
import { parseFormParams } from '../../src/oauth/params.ts';
import { fixtureEnv, makeConfigDir, secrets } from '../e2e/support/consulate.ts';
import { announce, answer } from './child.ts';
import {
  codeTtlSeconds,
  exchangeAgent,
  exchangeAgentSecret,
  exchangeAgentYaml,
  personClient,
  personIdentityScopes,
  personRedirectUri,
  personResource,
  personResourceScopes,
  type PooledCode,
  type PoolReply,
  type PoolRequest,
} from './person.ts';

const dir = process.env.BENCH_DIR;
if (!dir) throw new Error('BENCH_DIR is required');

// The fixture re-reads signing keys every 50 ms (for rotation tests); benchmark the default instead.
// Codes live codeTtlSeconds (default 60) so that a pool made before a long run stays valid; the
// lifetime changes no work per redemption.
const main = parse(readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8')) as {
  keys?: Record<string, unknown>;
  authorization?: Record<string, unknown>;
};
delete main.keys?.reload_seconds;
main.authorization = { ...main.authorization, code_ttl_seconds: codeTtlSeconds };
const { configDir, dataDir } = makeConfigDir({ 'consulate.yaml': stringify(main), [`clients/${exchangeAgent}.yaml`]: exchangeAgentYaml }, dir);

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const server = await startServer({
  configDir,
  env: { ...fixtureEnv(), BENCH_AGENT_SECRET_HASH: hashSecret(exchangeAgentSecret) },
  overrides: { dataDir, host: '127.0.0.1', port: 0 },
  log: createLogger('info', discard),
});
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

const webAppAuth = `Basic ${Buffer.from(`${personClient}:${encodeURIComponent(secrets[personClient])}`).toString('base64')}`;

/** Redeems fresh codes as POST /token would (client authentication included) and keeps the refresh tokens. */
async function makeRefreshTokens(count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (const { code, verifier } of await makeCodes(count)) {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: personRedirectUri, code_verifier: verifier }).toString();
    const response = await dispatchTokenRequest(deps, { authorization: webAppAuth, params: parseFormParams(form) });
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
