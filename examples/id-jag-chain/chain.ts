// The delegation chain of an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant) across two
// Consulates, step by step with real clients (openid-client, and the SDK's agent client):
//   1 alice signs in at A through the app (authorization code + PKCE): her Passport at A
//   2 the orchestrator exchanges it at A for an ID-JAG naming B (RFC 8693, requested_token_type id-jag)
//   3 the orchestrator redeems the ID-JAG at B (JWT bearer, RFC 7523): its Passport at B, sub alice
//   4 the worker exchanges the orchestrator's Passport at B for a narrower one (RFC 8693, SDK):
//     act nests worker over orchestrator, scope tasks:read only
//   5 the worker calls the tasks API, which the SDK's guard protects
// and what is refused on the way (the worker asking for more; writing with a read Passport).
// Each step is logged and returned with the claims it produced. The person's browser is the
// caller's (`signIn`): a person at a terminal, or a test driving the sign-in pages.
import { createServer } from 'node:http';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { ConsulateOAuthError, createAgentClient } from '../../src/sdk/index.ts';

const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
export const idJagType = 'urn:ietf:params:oauth:token-type:id-jag';

export type Credentials = { clientId: string; clientSecret: string };

export type ChainOptions = {
  /** Consulate A (the person's identity server) and B (the tasks API's authorization server): issuers. */
  aIssuer: string;
  bIssuer: string;
  /** The app alice signs in to at A; its redirect URI is on loopback, where this listens for her browser. */
  app: Credentials & { redirectUri: string };
  /** The orchestrator agent: its credentials at A and at B. */
  orchestratorAtA: Credentials;
  orchestratorAtB: Credentials;
  /** The worker agent at B. */
  worker: Credentials;
  /** The tasks API: its resource identifier at B, and its URL. */
  resource: string;
  tasksUrl: string;
  /** The person's browser: opens the sign-in address; the sign-in ends at the app's redirect URI. */
  signIn: (url: URL) => Promise<void>;
  log?: (line: string) => void;
};

export type Claims = Record<string, unknown>;

export type ChainResult = {
  /** Alice's Passport at A, from the app's sign-in. */
  person: { token: string; claims: Claims };
  /** The ID-JAG A issued to the orchestrator, for B. */
  idJag: { token: string; claims: Claims; issuedTokenType: string | undefined };
  /** The orchestrator's Passport at B (JWT bearer). */
  orchestrator: { token: string; claims: Claims };
  /** The worker's Passport at B (token exchange of the orchestrator's). */
  worker: { token: string; claims: Claims };
  /** What GET /tasks answered the worker. */
  tasks: { status: number; body: unknown };
  /** What was refused: the worker asking for tasks:write at B, and its Passport at POST /tasks. */
  refused: { widerScope: string | undefined; write: { status: number; wwwAuthenticate: string | null } };
};

/** Runs the whole chain; throws on any unexpected answer (an OAuth error as ConsulateOAuthError or openid-client's ResponseBodyError). */
export async function runIdJagChain(options: ChainOptions): Promise<ChainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const show = (claims: Claims, names: string[]) => names.filter((n) => claims[n] !== undefined).map((n) => `    ${n}: ${JSON.stringify(claims[n])}`).join('\n');

  // 1. Alice signs in at A through the app.
  log(`1. alice signs in at A (${options.aIssuer}) through the app ${options.app.clientId}`);
  const personToken = await signInAtA(options);
  const person = decodeJwt(personToken) as Claims;
  log(`   her Passport at A:\n${show(person, ['iss', 'sub', 'aud', 'client_id', 'scope', 'email', 'groups', 'acr', 'receipt'])}`);

  // 2. The orchestrator asks A for an ID-JAG naming B.
  log(`2. the orchestrator exchanges it at A for an ID-JAG for B (${options.bIssuer})`);
  const atA = await discover(options.aIssuer, options.orchestratorAtA);
  const jag = await client.genericGrantRequest(atA, exchangeGrant, {
    subject_token: personToken,
    subject_token_type: accessTokenType,
    requested_token_type: idJagType,
    audience: options.bIssuer,
    resource: options.resource,
    scope: 'tasks:read tasks:write',
  });
  const idJag = decodeJwt(jag.access_token) as Claims;
  log(`   the ID-JAG (${jag.issued_token_type}):\n${show(idJag, ['iss', 'sub', 'aud', 'client_id', 'resource', 'scope', 'act', 'email', 'receipt'])}`);

  // 3. The orchestrator redeems it at B.
  log('3. the orchestrator redeems the ID-JAG at B (JWT bearer)');
  const atB = await discover(options.bIssuer, options.orchestratorAtB);
  const redeemed = await client.genericGrantRequest(atB, jwtBearerGrant, { assertion: jag.access_token });
  const orchestrator = decodeJwt(redeemed.access_token) as Claims;
  log(`   the orchestrator's Passport at B:\n${show(orchestrator, ['iss', 'sub', 'aud', 'scope', 'act', 'orig_iss', 'orig_sub', 'did', 'receipt'])}`);

  // 4. The worker gets a narrower Passport from the orchestrator's, through the SDK.
  log('4. the worker exchanges the orchestrator\'s Passport at B for tasks:read only');
  const worker = createAgentClient({ issuer: options.bIssuer, clientId: options.worker.clientId, clientSecret: options.worker.clientSecret, allowInsecureLoopback: true, cache: false });
  const narrowed = await worker.exchange(redeemed.access_token, { resource: options.resource, scope: 'tasks:read' });
  const workerClaims = decodeJwt(narrowed.access_token) as Claims;
  log(`   the worker's Passport at B:\n${show(workerClaims, ['iss', 'sub', 'aud', 'scope', 'act', 'did', 'receipt'])}`);
  let widerScope: string | undefined;
  try {
    await worker.exchange(redeemed.access_token, { resource: options.resource, scope: 'tasks:read tasks:write' });
  } catch (error) {
    if (!(error instanceof ConsulateOAuthError)) throw error;
    widerScope = error.code;
  }
  log(`   asking for tasks:write as well: ${widerScope ?? 'granted (unexpected)'}`);

  // 5. The worker calls the tasks API.
  log(`5. the worker calls the tasks API (${options.tasksUrl})`);
  const bearer = { authorization: `Bearer ${narrowed.access_token}` };
  const read = await fetch(`${options.tasksUrl}/tasks`, { headers: bearer });
  const tasks = { status: read.status, body: (await read.json()) as unknown };
  log(`   GET /tasks: ${tasks.status} ${JSON.stringify(tasks.body)}`);
  const write = await fetch(`${options.tasksUrl}/tasks`, { method: 'POST', headers: bearer });
  await write.body?.cancel();
  const refusedWrite = { status: write.status, wwwAuthenticate: write.headers.get('www-authenticate') };
  log(`   POST /tasks with it: ${refusedWrite.status} ${refusedWrite.wwwAuthenticate ?? ''}`);

  return {
    person: { token: personToken, claims: person },
    idJag: { token: jag.access_token, claims: idJag, issuedTokenType: typeof jag.issued_token_type === 'string' ? jag.issued_token_type : undefined },
    orchestrator: { token: redeemed.access_token, claims: orchestrator },
    worker: { token: narrowed.access_token, claims: workerClaims },
    tasks,
    refused: { widerScope, write: refusedWrite },
  };
}

async function discover(issuer: string, credentials: Credentials): Promise<client.Configuration> {
  const insecure = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
  return client.discovery(new URL(issuer), credentials.clientId, undefined, client.ClientSecretBasic(credentials.clientSecret), insecure);
}

/** The app's sign-in (authorization code with PKCE, state and nonce; `iss` checked by openid-client, RFC 9207): her Passport at A. */
async function signInAtA(options: ChainOptions): Promise<string> {
  const config = await discover(options.aIssuer, options.app);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const redirect = new URL(options.app.redirectUri);
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.app.redirectUri,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  // The loopback redirect URI (RFC 8252 §7.3): the first request to its path ends the wait.
  let arrived!: (url: URL) => void;
  const callback = new Promise<URL>((resolve) => (arrived = resolve));
  const server = createServer((req, res) => {
    const here = new URL(req.url ?? '/', redirect.origin);
    if (here.pathname !== redirect.pathname) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Signed in. You can close this window and go back to the terminal.');
    arrived(here);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(redirect.port), redirect.hostname, resolve);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('nobody signed in within 10 minutes')), 600_000)));
  try {
    const [returned] = await Promise.race([Promise.all([callback, options.signIn(url)]), timeout]);
    const tokens = await client.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    return tokens.access_token;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
