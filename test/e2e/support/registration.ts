// Dynamic client registration in tests: a config with it on, the registration request, what is
// stored, and an authorization URL for a registered client.
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { answerOf, type Answer } from './clients.ts';
import type { TestConsulate } from './consulate.ts';

export const api = 'https://api.demo.example';
export const reports = 'https://reports.example';
const fixtureYaml = readFileSync(resolve(import.meta.dirname, '../../fixtures/config/consulate.yaml'), 'utf8');

/** The fixture's consulate.yaml with a dynamic_registration block appended. */
export function withRegistration(extra: string[] = []): string {
  return [fixtureYaml.trimEnd(), 'dynamic_registration:', '  enabled: true', '  resources:', `    ${api}:`, '      scopes: [read-data]', ...extra.map((line) => `  ${line}`), ''].join('\n');
}

export async function register(server: TestConsulate, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answerOf(response);
}

/** Registered clients in the database, and client.registered audit records: what a refusal must not add. */
export async function stored(server: TestConsulate): Promise<{ rows: number; audited: number }> {
  const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = (db.prepare(`SELECT count(*) AS n FROM dynamic_clients WHERE source = 'registration'`).get() as { n: number }).n;
    const audited = (await server.deps.store.audit.list()).filter((r) => r.event === 'client.registered').length;
    return { rows, audited };
  } finally {
    db.close();
  }
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export function authorizeUrl(server: TestConsulate, clientId: string, redirectUri: string, params: Record<string, string | undefined> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const url = new URL(`${server.issuer}/authorize`);
  const all: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid read-data',
    resource: api,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    state,
    login_hint: 'alice@example.com',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return { url, verifier, state };
}
