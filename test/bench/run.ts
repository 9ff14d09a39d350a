// `npm run bench`: HTTP throughput and latency of Consulate against a bare Hono baseline, over
// loopback with autocannon. Each server runs in its own child process; every target is checked
// once, warmed up, then measured for BENCH_SECONDS (10) with BENCH_CONNECTIONS (10) connections.
// Prints a table; writes JSON to BENCH_JSON if set. Fails on any non-2xx or unexpected body.
// The person-token targets (authorization_code, refresh_token) send a distinct single-use code or
// refresh token per request, from a pool the Consulate process makes just before the target runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { secrets } from '../e2e/support/consulate.ts';
import { spawnServer, type ServerProcess } from './child.ts';
import { codeTtlSeconds, exchangeAgent, exchangeAgentSecret, personRedirectUri, type PoolReply, type PoolRequest } from './person.ts';
import { formatTable, toRows, writeJson, type Measurement } from './report.ts';

const seconds = envNumber('BENCH_SECONDS', 10);
const connections = envNumber('BENCH_CONNECTIONS', 10, true);
const warmupSeconds = 2;
/**
 * A pool holds rate × (warm-up + measurement) × margin credentials, plus the check's and what
 * connections build but never get answered, the rate being measured earlier in the run for a target
 * at least as fast (see the targets). Running out fails the run.
 */
const poolMargins = { codes: 1.5, refreshTokens: 3 };
const logging = 'Consulate request logs at level info, serialized by pino into a discarding stream';

type Request = { path: string; headers: Record<string, string>; body: string };
/** Single-use request bodies, one per request, for the check, the warm-up and the measurement. */
type Pool = { what: string; bodies: string[]; used: number };
/** What a target sends: the same request every time, or one body per request from a pool. */
type Requests = { path: string; headers: Record<string, string>; body: string } | { path: string; headers: Record<string, string>; pool: Pool };
type Target = {
  name: string;
  url: string;
  requests: () => Promise<Requests>;
  /** Full check of the one response fetched before load; `sent` is the request body. */
  verifyJson: (json: Record<string, unknown>, sent: string) => boolean;
  /** Cheap check of every response under load. */
  verifyBody: (body: string) => boolean;
  /** Said with a count of unexpected bodies. */
  mismatchHint?: string;
};

function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  return value;
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const basicAuth = (id: keyof typeof secrets) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secrets[id])}`).toString('base64')}`;
const formHeaders = (id: keyof typeof secrets) => ({ authorization: basicAuth(id), 'content-type': 'application/x-www-form-urlencoded' });

const tokenRequest: Request = {
  path: '/token',
  headers: formHeaders('agent-basic'),
  body: form({ grant_type: 'client_credentials', resource: 'https://api.demo.example', scope: 'read-data' }),
};
const isTokenResponse = (json: Record<string, unknown>) => typeof json.access_token === 'string' && String(json.token_type).toLowerCase() === 'bearer';
const looksLikeTokenResponse = (body: string) => body.includes('"access_token":"');
/** A person grant with openid for a client allowed refresh tokens: Passport, ID token and a new refresh token. */
const isPersonTokenResponse = (json: Record<string, unknown>) =>
  isTokenResponse(json) && typeof json.id_token === 'string' && typeof json.refresh_token === 'string' && String(json.scope).split(' ').includes('openid');
const looksLikePersonTokenResponse = (body: string) => body.includes('"access_token":"') && body.includes('"id_token":"') && body.includes('"refresh_token":"');

/** The next body of a pool, undefined once it is used up. */
const take = (pool: Pool): string | undefined => (pool.used < pool.bodies.length ? pool.bodies[pool.used++] : undefined);
const bodyOf = (requests: Requests): string | undefined => ('pool' in requests ? take(requests.pool) : requests.body);
/** Credentials needed for a target running at up to `rate` requests/s. */
const poolSize = (rate: number, margin: number) => Math.ceil(rate * (warmupSeconds + seconds) * margin) + 4 * connections + 1;
/** Sent once a pool is used up: answered 400, so the run fails even if the stop comes late. */
const exhaustedBody = 'pool_exhausted=1';

async function post(url: string, request: Request): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(`${url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throw new Error(`POST ${url}${request.path}: ${error instanceof Error ? String(error.cause ?? error.message) : String(error)}`);
  }
}

/** A pooled body may start with a DPoP proof line: it goes into the DPoP header, the rest is the form. */
function withProof<R extends { headers?: Record<string, string> | undefined }>(request: R, pooled: string): R & { body: string } {
  const newline = pooled.indexOf('\n');
  if (newline < 0) return { ...request, body: pooled };
  return { ...request, headers: { ...request.headers, dpop: pooled.slice(0, newline) }, body: pooled.slice(newline + 1) };
}

async function makeProofs(htu: string, count: number): Promise<string[]> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const iat = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, () => new SignJWT({ jti: randomUUID(), htm: 'POST', htu }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt(iat).sign(privateKey)),
  );
}

async function check(target: Target, requests: Requests): Promise<string> {
  const pooled = bodyOf(requests);
  if (pooled === undefined) throw new Error(`${target.name}: empty pool`);
  const { headers, body } = withProof({ headers: requests.headers }, pooled);
  const { status, text } = await post(target.url, { path: requests.path, headers, body });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (status !== 200 || !target.verifyJson(json, body)) throw new Error(`${target.name}: expected 200 with the expected JSON, got ${status} ${text.slice(0, 300)}`);
  return text;
}

/** One autocannon run; throws if anything but 2xx responses with the expected body came back. */
async function load(target: Target, requests: Requests, duration: number, phase: string): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const pool = 'pool' in requests ? requests.pool : undefined;
  const fixedBody = 'body' in requests ? requests.body : undefined;
  const poolUsedBefore = pool?.used ?? 0;
  let exhausted = false;
  let instance: autocannon.Instance | undefined = undefined;
  instance = autocannon({
    url: `${target.url}${requests.path}`,
    method: 'POST',
    headers: requests.headers,
    ...(pool
      ? {
          // Called as each request is built (per connection, the first one when it is created).
          requests: [
            {
              setupRequest: (request) => {
                const body = take(pool);
                if (body !== undefined) return withProof(request, body);
                if (!exhausted) setImmediate(() => instance?.stop());
                exhausted = true;
                return { ...request, body: exhaustedBody };
              },
            },
          ],
        }
      : { body: fixedBody }),
    connections,
    duration,
    verifyBody: target.verifyBody,
  });
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) latenciesMs.push(ms);
  });
  const result = await instance;
  const problems = [
    exhausted && pool && `the pool of ${pool.bodies.length} ${pool.what} ran out (${pool.used - poolUsedBefore} taken in this phase): the target ran faster than its sizing assumed (poolMargins)`,
    result.non2xx && `${result.non2xx} non-2xx responses (status counts ${JSON.stringify(result.statusCodeStats)})`,
    result.errors && `${result.errors} connection errors (${result.timeouts} timeouts)`,
    result.mismatches && `${result.mismatches} responses with an unexpected body${target.mismatchHint ? ` (${target.mismatchHint})` : ''}`,
    latenciesMs.length === 0 && 'no responses',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${target.name} (${phase}): ${problems.join('; ')}`);
  return { target: target.name, requests: latenciesMs.length, seconds: result.duration, latenciesMs };
}

const dir = mkdtempSync(join(tmpdir(), 'consulate-bench-'));
const servers: ServerProcess[] = [];
let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= Promise.allSettled(servers.map((s) => s.stop())).then(() => rmSync(dir, { recursive: true, force: true })));
const interrupt = () => void cleanup().finally(() => process.exit(130));
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

/** Asks the Consulate process for `count` fresh codes or refresh tokens, as form bodies for POST /token. */
async function makePool(consulate: ServerProcess, make: PoolRequest['make'], count: number, sizing: string): Promise<Pool> {
  const reply = await consulate.ask<PoolReply>({ make, count } satisfies PoolRequest);
  const bodies =
    make === 'codes'
      ? (reply.codes ?? []).map(({ code, verifier }) => form({ grant_type: 'authorization_code', code, redirect_uri: personRedirectUri, code_verifier: verifier }))
      : (reply.refreshTokens ?? []).map((token) => form({ grant_type: 'refresh_token', refresh_token: token }));
  if (bodies.length !== count) throw new Error(`asked for ${count} ${make}, got ${bodies.length}`);
  const what = make.replace('_', ' ');
  console.error(`  pool: ${count} ${what} (${sizing}), made in ${(reply.ms / 1000).toFixed(1)} s`);
  return { what, bodies, used: 0 };
}

const start = async (entry: string, env: NodeJS.ProcessEnv) => {
  const server = await spawnServer(entry, env);
  servers.push(server);
  return server;
};

try {
  const consulate = await start('consulate-server.ts', { BENCH_DIR: dir });
  const sample = await post(consulate.url, tokenRequest);
  if (sample.status !== 200) throw new Error(`consulate: POST /token answered ${sample.status} ${sample.text.slice(0, 300)}`);
  // The baseline answers with a body as long as a real token response.
  const baseline = await start('baseline-server.ts', { BENCH_BODY_BYTES: String(Buffer.byteLength(sample.text)) });

  if (warmupSeconds + seconds + 60 > codeTtlSeconds) throw new Error(`BENCH_SECONDS must leave the pre-made codes time to live (${codeTtlSeconds} s in all)`);
  const measurements: Measurement[] = [];
  const pools: Record<string, number> = {};
  /** requests/s measured for an earlier target. */
  const rateOf = (name: string) => {
    const m = measurements.find((measurement) => measurement.target === name);
    if (!m) throw new Error(`${name} must be measured before the targets sized from it`);
    return m.requests / m.seconds;
  };
  const clientCredentials = 'client_credentials /token';
  const tokenExchange = 'token exchange /token';
  const authorizationCode = 'authorization_code /token';
  const webApp = formHeaders('web-app');

  const targets: Target[] = [
    { name: 'baseline (bare Hono POST)', url: baseline.url, requests: async () => tokenRequest, verifyJson: isTokenResponse, verifyBody: looksLikeTokenResponse },
    { name: clientCredentials, url: consulate.url, requests: async () => tokenRequest, verifyJson: isTokenResponse, verifyBody: looksLikeTokenResponse },
    {
      name: 'introspection /introspect',
      url: consulate.url,
      // A fresh Passport, issued just before this target runs.
      requests: async () => {
        const { access_token } = JSON.parse((await post(consulate.url, tokenRequest)).text) as { access_token: string };
        return { path: '/introspect', headers: formHeaders('demo-api'), body: form({ token: access_token }) };
      },
      verifyJson: (json) => json.active === true && json.sub === 'agent-basic',
      verifyBody: (body) => body.startsWith('{"active":true'),
      mismatchHint: 'an introspected Passport expires after 300 s',
    },
    {
      // client_credentials with a DPoP proof per request (RFC 9449: each jti once), made just before
      // the target runs by this process, as a client would: ES256, htm, htu, iat, a fresh jti.
      name: 'client_credentials + DPoP /token',
      url: consulate.url,
      requests: async () => {
        const count = poolSize(rateOf(clientCredentials), poolMargins.codes);
        pools['client_credentials + DPoP /token'] = count;
        const started = performance.now();
        const proofs = await makeProofs(`${consulate.url}/token`, count);
        console.error(`  pool: ${count} DPoP proofs (${clientCredentials} rate × ${warmupSeconds + seconds} s × ${poolMargins.codes}), made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        // The proof travels in a header, so the pool's bodies carry it and setupRequest moves it there.
        return { path: '/token', headers: tokenRequest.headers, pool: { what: 'DPoP proofs', bodies: proofs.map((proof) => `${proof}\n${tokenRequest.body}`), used: 0 } };
      },
      verifyJson: (json) => typeof json.access_token === 'string' && json.token_type === 'DPoP',
      verifyBody: (body) => body.includes('"token_type":"DPoP"'),
    },
    {
      // A code per request, as /authorize hands them out (PKCE S256, openid, one resource).
      name: authorizationCode,
      url: consulate.url,
      // Redeeming a code does all a client_credentials issuance does and more (code, ID token,
      // refresh token), so that rate bounds this one; codes are cheap to make.
      requests: async () => {
        const count = poolSize(rateOf(clientCredentials), poolMargins.codes);
        pools[authorizationCode] = count;
        const sizing = `${clientCredentials} rate × ${warmupSeconds + seconds} s × ${poolMargins.codes}`;
        return { path: '/token', headers: webApp, pool: await makePool(consulate, 'codes', count, sizing) };
      },
      verifyJson: isPersonTokenResponse,
      verifyBody: looksLikePersonTokenResponse,
    },
    {
      // A refresh token per request, each from a code redeemed (dispatchTokenRequest) before the target runs.
      name: 'refresh_token /token',
      url: consulate.url,
      // A rotation does about the work of a code redemption (the same signing and writes), and
      // making the pool costs one redemption per token: sized from that rate with a wider margin,
      // not from the client_credentials one (about 4x more tokens to make).
      requests: async () => {
        const count = poolSize(rateOf(authorizationCode), poolMargins.refreshTokens);
        pools['refresh_token /token'] = count;
        const sizing = `${authorizationCode} rate × ${warmupSeconds + seconds} s × ${poolMargins.refreshTokens}`;
        return { path: '/token', headers: webApp, pool: await makePool(consulate, 'refresh_tokens', count, sizing) };
      },
      // Rotated: a new refresh token, not the one sent.
      verifyJson: (json, sent) => isPersonTokenResponse(json) && json.refresh_token !== new URLSearchParams(sent).get('refresh_token'),
      verifyBody: looksLikePersonTokenResponse,
    },
    {
      // RFC 8693: the agent exchanges one person's Passport (the web app's, redeemed from a code just
      // before) for a read-data Passport: subject token verification, the delegation policy, a new
      // delegation and lineage row, mint, receipt. The subject Passport is not used up.
      name: tokenExchange,
      url: consulate.url,
      requests: async () => {
        const [body] = (await makePool(consulate, 'codes', 1, 'one person Passport')).bodies;
        const redeemed = await post(consulate.url, { path: '/token', headers: webApp, body: body as string });
        const { access_token } = JSON.parse(redeemed.text) as { access_token: string };
        const agentAuth = `Basic ${Buffer.from(`${exchangeAgent}:${exchangeAgentSecret}`).toString('base64')}`;
        return {
          path: '/token',
          headers: { authorization: agentAuth, 'content-type': 'application/x-www-form-urlencoded' },
          body: form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'read-data' }),
        };
      },
      verifyJson: (json) => isTokenResponse(json) && json.issued_token_type === 'urn:ietf:params:oauth:token-type:access_token',
      verifyBody: (body) => body.includes('"issued_token_type":"'),
      mismatchHint: 'the subject Passport expires after 300 s',
    },
  ];

  for (const target of targets) {
    console.error(`${target.name}:`);
    const requests = await target.requests();
    await check(target, requests);
    console.error(`  warm-up ${warmupSeconds} s, then measuring ${seconds} s…`);
    await load(target, requests, warmupSeconds, 'warm-up');
    measurements.push(await load(target, requests, seconds, 'measurement'));
    if ('pool' in requests) console.error(`  used ${requests.pool.used} of ${requests.pool.bodies.length} ${requests.pool.what}`);
  }

  // Ratios against the baseline, and against client credentials (the cheapest issuance) for the rest.
  const rows = toRows(measurements, clientCredentials);
  const settings = {
    seconds,
    warmupSeconds,
    connections,
    node: process.version,
    cpus: availableParallelism(),
    logging,
    poolMargins,
    pools,
  };
  console.log(`Consulate benchmark: autocannon, ${connections} connections, ${warmupSeconds} s warm-up + ${seconds} s per target, loopback, Node ${process.version}, ${settings.cpus} CPUs.`);
  console.log(`Each server runs in its own child process; ${logging}; SQLite store in a temp dir.`);
  console.log('');
  console.log(formatTable(rows));
  if (process.env.BENCH_JSON) {
    writeJson(process.env.BENCH_JSON, settings, rows);
    console.log(`\nJSON written to ${process.env.BENCH_JSON}`);
  }
} catch (error) {
  console.error(`\nBENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}
