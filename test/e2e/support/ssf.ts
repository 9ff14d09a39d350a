// SSF test helpers: the config that turns the transmitter on (small retry delays, a fast feed),
// receiver clients with their Passports, JSON calls to the management API, and a push receiver: a
// small HTTP server on loopback that verifies every SET with jose against Consulate's JWKS (typ,
// iss, aud, signature) before it answers 202, and can be switched off to play a receiver that is down.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { hashSecret } from '../../../src/clients/secrets.ts';
import { answerOf, basicAuth, postForm, type Answer } from './clients.ts';
import type { TestConsulate } from './consulate.ts';

export const ssfResource = 'https://ssf.test.example';
export const receiverSecret = (id: string) => `${id}-ssf-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
export const eventTypes = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  delegationRevoked: 'urn:consulate:secevent:event-type:delegation-revoked',
  budgetSpent: 'urn:consulate:secevent:event-type:budget-spent',
  agentSuspended: 'urn:consulate:secevent:event-type:agent-suspended',
  agentResumed: 'urn:consulate:secevent:event-type:agent-resumed',
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
} as const;

const fixtureMain = readFileSync(resolve(import.meta.dirname, '../../fixtures/config/consulate.yaml'), 'utf8');

/** consulate.yaml with the transmitter on; `extra` lines go under `ssf:`. */
export function ssfMainYaml(extra: string[] = []): string {
  return [
    fixtureMain,
    'ssf:',
    '  enabled: true',
    `  resource: ${ssfResource}`,
    '  feed_interval_ms: 50',
    '  push: { initial_backoff_ms: 50, max_backoff_ms: 200, timeout_ms: 2000, max_attempts: 50 }',
    '  poll: { max_wait_seconds: 2 }',
    ...extra.map((line) => `  ${line}`),
  ].join('\n');
}

/** A receiver client: client credentials for the SSF resource with `scopes`. */
export function receiverYaml(id: string, scopes = ['ssf']): string {
  return [`client_id: ${id}`, 'token_endpoint_auth_method: client_secret_basic', `secret_hash: ${hashSecret(receiverSecret(id))}`, 'grant_types: [client_credentials]', 'resources:', `  ${ssfResource}:`, `    scopes: [${scopes.join(', ')}]`].join('\n');
}

export const ssfResourceYaml = [`resource: ${ssfResource}`, 'name: Shared Signals', 'scopes:', '  ssf: Receive security events', '  audit-read: Read receipts'].join('\n');

/** The files of a Consulate with the transmitter on and receivers `ids` (each allowed ssf and audit-read). */
export function ssfFiles(ids: string[], extra: string[] = []): Record<string, string> {
  return {
    'consulate.yaml': ssfMainYaml(extra),
    'resources/ssf.yaml': ssfResourceYaml,
    ...Object.fromEntries(ids.map((id) => [`clients/${id}.yaml`, receiverYaml(id, ['ssf', 'audit-read'])])),
  };
}

/** A receiver's Passport by client credentials (as any OAuth client gets one). */
export async function receiverToken(server: TestConsulate, id: string, scope = 'ssf'): Promise<string> {
  const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: ssfResource, scope }, { authorization: basicAuth(id, receiverSecret(id)) });
  if (response.status !== 200) throw new Error(`receiver token: ${response.text}`);
  return response.body.access_token as string;
}

/** A JSON call to Consulate with a Bearer token. */
export async function call(server: TestConsulate, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return answerOf(response);
}

export type ReceivedSet = { payload: JWTPayload & { events: Record<string, Record<string, unknown>>; sub_id?: Record<string, unknown>; txn?: string }; header: { typ?: string; alg: string } };

export type PushReceiver = {
  url: string;
  /** Every SET that verified, in arrival order (a retried one appears once per delivery). */
  readonly sets: ReceivedSet[];
  /** SETs that failed verification (should stay empty). */
  readonly rejected: string[];
  /** Push attempts while down (answered 503). */
  readonly refusedWhileDown: number;
  /** Down: every push is answered 503 (the transmitter retries). */
  setDown(down: boolean): void;
  /** The verified SETs of one event type. */
  ofType(type: string): ReceivedSet[];
  /** Waits until `predicate` holds for the SETs received (polling; fails after `ms`). */
  waitFor(predicate: (sets: ReceivedSet[]) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
};

/** A push receiver (RFC 8935) that believes a SET only after jose verified it against `server`'s JWKS for `audience`. */
export async function startPushReceiver(server: TestConsulate, audience: string, authorization?: string): Promise<PushReceiver> {
  const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  const sets: ReceivedSet[] = [];
  const rejected: string[] = [];
  let down = false;
  let refusedWhileDown = 0;
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      void (async () => {
        if (down) {
          refusedWhileDown++;
          res.writeHead(503).end();
          return;
        }
        if (authorization !== undefined && req.headers.authorization !== authorization) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'authentication_failed', description: 'wrong authorization' }));
          return;
        }
        if (req.headers['content-type'] !== 'application/secevent+jwt') {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_request', description: 'content type' }));
          return;
        }
        try {
          const { payload, protectedHeader } = await jwtVerify(body, jwks, { issuer: server.issuer, audience, typ: 'secevent+jwt' });
          sets.push({ payload: payload as ReceivedSet['payload'], header: protectedHeader as ReceivedSet['header'] });
          res.writeHead(202).end();
        } catch {
          rejected.push(body);
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_key', description: 'does not verify' }));
        }
      })();
    });
  });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    sets,
    rejected,
    get refusedWhileDown() {
      return refusedWhileDown;
    },
    setDown(value) {
      down = value;
    },
    ofType: (type) => sets.filter((s) => type in s.payload.events),
    async waitFor(predicate, ms = 10_000) {
      const until = Date.now() + ms;
      while (!predicate(sets)) {
        if (Date.now() > until) throw new Error(`timed out waiting for SETs; got ${JSON.stringify(sets.map((s) => Object.keys(s.payload.events)))}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () =>
      new Promise<void>((done) => {
        http.closeAllConnections();
        http.close(() => done());
      }),
  };
}
