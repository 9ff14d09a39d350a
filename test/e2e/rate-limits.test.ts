// Rate limits (issue 17 §1): failed client authentications per client_id and per source address,
// token requests and device authorizations per client, registrations and metadata-document fetches
// per source address; the source address from the socket or, behind a trusted proxy, from
// X-Forwarded-For. Small limits set in the test's consulate.yaml. (Page limits: page-limits.test.ts.)
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, postForm, type Answer } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import { freshPostgresUrl, skipPostgres } from '../setup/postgres.ts';
import { api, register } from './support/registration.ts';
import { startDocumentHost, type DocumentHost } from './support/document-host.ts';
import { makeTestCertificate } from './support/tls.ts';

const secretOf = (id: string) => `${id}-secret-0123456789abcdefghijklmnopqrstuvwxyz`;
const clientYaml = (id: string) =>
  [`client_id: ${id}`, 'token_endpoint_auth_method: client_secret_basic', `secret_hash: "${hashSecret(secretOf(id))}"`, 'resources:', `  ${api}:`, '    scopes: [read-data]', `default_resource: ${api}`, ''].join('\n');

const mainYaml = (extra: string[]) =>
  ['listen: { host: 127.0.0.1, port: 0 }', 'keys: { reload_seconds: 0.05 }', 'log: { level: info }', ...extra, ''].join('\n');

const clients = ['agent-a', 'agent-b', 'agent-c', 'agent-d'];
const clientFiles = Object.fromEntries(clients.map((id) => [`clients/${id}.yaml`, clientYaml(id)]));
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
/** A public device client (a CLI): names itself at /device_authorization. */
const deviceClientYaml = (id: string) =>
  [`client_id: ${id}`, 'token_endpoint_auth_method: none', `grant_types: [${deviceGrant}]`, 'resources:', `  ${api}:`, '    scopes: [read-data]', `default_resource: ${api}`, ''].join('\n');

const expect429 = (answer: Answer) => {
  expect(answer.status, answer.text).toBe(429);
  expect(answer.body.error).toBe('temporarily_unavailable');
  expect(typeof answer.body.error_description).toBe('string');
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(answer.body).not.toHaveProperty('access_token');
};

describe('rate limits behind a trusted proxy', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({
      files: {
        'consulate.yaml': mainYaml([
          'http:',
          '  trust_proxy: [127.0.0.1, "::1"]',
          'rate_limits:',
          '  client_auth_failures: { max: 20, window_seconds: 300 }',
          '  address_auth_failures: { max: 30, window_seconds: 300 }',
          '  token_requests: { max: 5, window_seconds: 300 }',
          '  registrations: { max: 3, window_seconds: 3600 }',
          '  device_authorizations: { max: 3, window_seconds: 300 }',
          'dynamic_registration:',
          '  enabled: true',
          '  resources:',
          `    ${api}:`,
          '      scopes: [read-data]',
        ]),
        ...clientFiles,
        'clients/device-a.yaml': deviceClientYaml('device-a'),
        'clients/device-b.yaml': deviceClientYaml('device-b'),
      },
    });
  }, 60_000);
  afterAll(async () => {
    // No secret reaches the logs, rate limit lines included.
    const logs = server.rawLogs();
    for (const id of clients) expect(logs).not.toContain(secretOf(id));
    await server?.stop();
  });

  const token = (id: string, secret: string, from: string) =>
    postForm(server, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(id, secret), 'x-forwarded-for': from });
  const receipts = async () => (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'rate_limit.reached');

  it('25 wrong secrets for one client: the 21st on are 429, then its right secret too; another client still gets its Passport', async () => {
    const from = '198.51.100.1';
    const answers: Answer[] = [];
    for (let i = 0; i < 25; i++) answers.push(await token('agent-a', 'wrong-secret', from));
    for (const answer of answers.slice(0, 20)) expect(answer.status).toBe(401);
    for (const answer of answers.slice(20)) expect429(answer);

    expect429(await token('agent-a', secretOf('agent-a'), from));
    // Another client, even from the same address (20 failures there, under its limit of 30).
    const other = await token('agent-b', secretOf('agent-b'), from);
    expect(other.status, other.text).toBe(200);
    expect(typeof other.body.access_token).toBe('string');

    // One receipt and one log line for the limit reached, naming the client and never the secret.
    await expect.poll(async () => (await receipts()).filter((r) => r.clientId === 'agent-a').map((r) => r.details)).toEqual([
      expect.objectContaining({ limit: 'client_auth_failures', key_kind: 'client' }),
    ]);
    const lines = server.logs.filter((line) => line.msg === 'rate limit reached' && line.client_id === 'agent-a');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, limit: 'client_auth_failures', key_kind: 'client' });
  });

  it('failures from one address across different client ids: that address is 429, others are not', async () => {
    const from = '198.51.100.2';
    for (let i = 0; i < 30; i++) expect((await token(`nobody-${i}`, 'wrong-secret', from)).status).toBe(401);
    expect429(await token(`nobody-30`, 'wrong-secret', from));
    // Even a right secret, from that address, waits.
    expect429(await token('agent-b', secretOf('agent-b'), from));
    // From another address the same client is served: the two X-Forwarded-For addresses count apart.
    expect((await token('agent-b', secretOf('agent-b'), '198.51.100.3')).status).toBe(200);
    await expect.poll(async () => (await receipts()).filter((r) => r.details.key_kind === 'address').map((r) => r.details)).toEqual([
      expect.objectContaining({ limit: 'address_auth_failures', key_kind: 'address' }),
    ]);
  });

  it('the right-most X-Forwarded-For address not a trusted proxy counts: a prepended address does not escape', async () => {
    // Two forged left-most entries, one real address appended by the (trusted) proxy: one counter.
    for (let i = 0; i < 30; i++) expect((await token(`forger-${i}`, 'wrong', `203.0.113.${i}, 198.51.100.8`)).status).toBe(401);
    expect429(await token('agent-b', secretOf('agent-b'), '203.0.113.200, 198.51.100.8'));
    expect((await token('agent-b', secretOf('agent-b'), '198.51.100.9')).status).toBe(200);
  });

  it('token requests per client: over the limit 429 with Retry-After; another client unaffected', async () => {
    const from = '198.51.100.4';
    for (let i = 0; i < 5; i++) expect((await token('agent-c', secretOf('agent-c'), from)).status).toBe(200);
    expect429(await token('agent-c', secretOf('agent-c'), from));
    // Per client, not per address: another client from the same address.
    expect((await token('agent-d', secretOf('agent-d'), from)).status).toBe(200);
    await expect.poll(async () => (await receipts()).filter((r) => r.clientId === 'agent-c').map((r) => r.details)).toEqual([
      expect.objectContaining({ limit: 'token_requests', key_kind: 'client' }),
    ]);
  });

  it('device authorizations per client: over the limit 429 temporarily_unavailable with Retry-After; another client unaffected', async () => {
    const ask = (id: string) => postForm(server, '/device_authorization', { client_id: id, scope: 'read-data' }, { 'x-forwarded-for': '198.51.100.7' });
    for (let i = 0; i < 3; i++) {
      const started = await ask('device-a');
      expect(started.status, started.text).toBe(200);
      expect(typeof started.body.device_code).toBe('string');
    }
    const refused = await ask('device-a');
    expect429(refused);
    expect(refused.body).not.toHaveProperty('device_code');
    // Per client, from the same address.
    expect((await ask('device-b')).status).toBe(200);
    await expect.poll(async () => (await receipts()).filter((r) => r.clientId === 'device-a').map((r) => r.details)).toEqual([
      expect.objectContaining({ limit: 'device_authorizations', key_kind: 'client' }),
    ]);
    // The refused request left nothing behind: three device requests stored, not four.
    const db = new Database(join(server.dataDir, 'consulate.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM approval_requests WHERE client_id = 'device-a'").get()).toEqual({ n: 3 });
    } finally {
      db.close();
    }
  });

  it('registrations per source address', async () => {
    const body = { redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' };
    for (let i = 0; i < 3; i++) expect((await register(server, body, { 'x-forwarded-for': '198.51.100.5' })).status).toBe(201);
    expect429(await register(server, body, { 'x-forwarded-for': '198.51.100.5' }));
    expect((await register(server, body, { 'x-forwarded-for': '198.51.100.6' })).status).toBe(201);
    await expect.poll(async () => (await receipts()).filter((r) => r.details.limit === 'registrations').map((r) => r.details.key_kind)).toEqual(['address']);
  });
});

describe('rate limits without a trusted proxy', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate({
      files: { 'consulate.yaml': mainYaml(['rate_limits:', '  client_auth_failures: { max: 100 }', '  address_auth_failures: { max: 5, window_seconds: 300 }']), ...clientFiles },
    });
  }, 60_000);
  afterAll(async () => server?.stop());

  it('X-Forwarded-For is ignored: the socket address counts', async () => {
    const token = (id: string, secret: string, from: string) =>
      postForm(server, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(id, secret), 'x-forwarded-for': from });
    for (let i = 0; i < 5; i++) expect((await token(`nobody-${i}`, 'wrong', `198.51.100.${i + 10}`)).status).toBe(401);
    expect429(await token('agent-a', secretOf('agent-a'), '198.51.100.99'));
  });

  it('a blocked address is refused at introspection and revocation too', async () => {
    for (const path of ['/introspect', '/revoke']) {
      expect429(await postForm(server, path, { token: 'x' }, { authorization: basicAuth('agent-a', secretOf('agent-a')) }));
    }
  });
});

describe.skipIf(skipPostgres())('rate limits shared by two nodes on one PostgreSQL database', () => {
  let a: TestConsulate;
  let b: TestConsulate;
  beforeAll(async () => {
    const env = { CONSULATE_DATABASE_URL: await freshPostgresUrl() };
    const files = { 'consulate.yaml': mainYaml(['rate_limits:', '  client_auth_failures: { max: 4, window_seconds: 300 }', '  token_requests: { max: 3, window_seconds: 300 }']), ...clientFiles };
    [a, b] = await Promise.all([startConsulate({ files, env }), startConsulate({ files, env })]);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const token = (node: TestConsulate, id: string, secret: string) => postForm(node, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(id, secret) });

  it('failures on either node count together: blocked on both', async () => {
    for (const node of [a, b, a, b]) expect((await token(node, 'agent-a', 'wrong')).status).toBe(401);
    expect429(await token(a, 'agent-a', secretOf('agent-a')));
    expect429(await token(b, 'agent-a', secretOf('agent-a')));
    expect((await token(b, 'agent-b', secretOf('agent-b'))).status).toBe(200);
    // One receipt in the shared chain, though both nodes refused.
    await expect.poll(async () => (await a.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'rate_limit.reached').map((r) => r.clientId)).toEqual(['agent-a']);
  });

  it('token requests per client count across nodes', async () => {
    for (const node of [a, b, a]) expect((await token(node, 'agent-c', secretOf('agent-c'))).status).toBe(200);
    expect429(await token(b, 'agent-c', secretOf('agent-c')));
  });
});

describe('metadata-document fetches per source address', () => {
  let server: TestConsulate;
  let host: DocumentHost;
  const redirect = 'https://mcp-client.example.test/cb';
  const documentFor = (path: string) => ({ client_id: `${host.base}${path}`, client_name: `Client ${path}`, redirect_uris: [redirect], token_endpoint_auth_method: 'none' });

  beforeAll(async () => {
    const cert = makeTestCertificate();
    host = await startDocumentHost(cert);
    for (const path of ['/one.json', '/two.json', '/three.json', '/four.json']) host.documents.set(path, documentFor(path));
    server = await startConsulate({
      files: {
        'consulate.yaml': mainYaml([
          'http:',
          '  trust_proxy: [127.0.0.1, "::1"]',
          'rate_limits:',
          '  metadata_document_fetches: { max: 2, window_seconds: 300 }',
          'client_id_metadata_documents:',
          '  allow_loopback_http: true',
          '  ca_file: document-ca.pem',
          '  resources:',
          `    ${api}:`,
          '      scopes: [read-data]',
        ]),
        'document-ca.pem': cert.cert,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await host?.close();
  });

  /** /authorize for a document client from `from`: 303 (on to sign in) when the client is known. */
  const authorize = async (path: string, from: string) => {
    const url = new URL(`${server.url}/authorize`);
    const params = { client_id: `${host.base}${path}`, redirect_uri: redirect, response_type: 'code', scope: 'read-data', resource: api, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': from } });
    return { status: response.status, location: response.headers.get('location'), retryAfter: response.headers.get('retry-after'), html: await response.text() };
  };

  it('a fetch over the limit is a 429 page at /authorize and nothing is fetched; cached documents and other addresses are unaffected', async () => {
    const from = '198.51.100.30';
    expect((await authorize('/one.json', from)).status).toBe(303);
    // A cache hit costs nothing.
    for (let i = 0; i < 3; i++) expect((await authorize('/one.json', from)).status).toBe(303);
    expect(host.hits.filter((hit) => hit === '/one.json')).toHaveLength(1);
    expect((await authorize('/two.json', from)).status).toBe(303);

    const refused = await authorize('/three.json', from);
    expect(refused.status).toBe(429);
    expect(refused.location).toBeNull();
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.html).toContain('Too many requests');
    expect(host.hits).not.toContain('/three.json');
    // Known clients still work from that address; another address still gets its fetches.
    expect((await authorize('/two.json', from)).status).toBe(303);
    expect((await authorize('/three.json', '198.51.100.31')).status).toBe(303);
    expect(host.hits).toContain('/three.json');
  });

  it('at PAR and the token endpoint the same limit answers 429 temporarily_unavailable JSON, nothing fetched', async () => {
    const from = '198.51.100.32';
    // Two uncached documents from this address (cached ones are not counted: /one.json is known).
    expect((await authorize('/one.json', from)).status).toBe(303);
    expect((await authorize('/four.json', from)).status).toBe(303);
    host.documents.set('/five.json', documentFor('/five.json'));
    expect((await authorize('/five.json', from)).status).toBe(303);
    host.documents.set('/six.json', documentFor('/six.json'));
    const par = await postForm(server, '/par', { client_id: `${host.base}/six.json`, redirect_uri: redirect, response_type: 'code', scope: 'read-data', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }, { 'x-forwarded-for': from });
    expect429(par);
    const token = await postForm(server, '/token', { grant_type: 'authorization_code', client_id: `${host.base}/six.json`, code: 'x', redirect_uri: redirect, code_verifier: 'x'.repeat(43) }, { 'x-forwarded-for': from });
    expect429(token);
    expect(host.hits).not.toContain('/six.json');
  });

  it('each address reaching the limit is one receipt', async () => {
    const receipts = (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'rate_limit.reached');
    expect(receipts.map((r) => r.details)).toEqual([
      expect.objectContaining({ limit: 'metadata_document_fetches', key_kind: 'address' }),
      expect.objectContaining({ limit: 'metadata_document_fetches', key_kind: 'address' }),
    ]);
    const lines = server.logs.filter((line) => line.msg === 'rate limit reached');
    expect(lines.map((line) => line.address)).toEqual(['198.51.100.30', '198.51.100.32']);
  });
});
