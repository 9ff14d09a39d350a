// Personal access tokens end to end: a signed-in person creates one on /account/tokens (shown once,
// only a keyed hash in the database), sees it listed with its last use, a resource server
// introspects it, a tool exchanges it (RFC 8693) for a Passport that jose verifies, and the person
// revokes it: introspection, exchange and the exchanged Passport all stop. Expired, forged (bad
// checksum: refused without a lookup) and out-of-policy tokens are refused; the per-person cap and
// the failed-presentation limit hold.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { hashId } from '../../src/oauth/ids.ts';
import { checksumOf, patPattern } from '../../src/pats/format.ts';
import { cookieJar } from './support/browser.ts';
import { basicAuth, postForm, testClock } from './support/clients.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { api, exchangeGrant } from './support/delegation.ts';
import type { Upstream } from './support/upstreams.ts';

const patType = 'urn:consulate:token-type:pat';
const toolSecret = 'pat-tool-secret-0123456789abcdefghijklmnopqrstuvwxyz';
// A tool that exchanges people's PATs for the Demo API (subject_token_audiences), for anyone.
const toolYaml = `client_id: pat-tool
token_endpoint_auth_method: client_secret_basic
secret_hash: ${hashSecret(toolSecret)}
grant_types: [${exchangeGrant}]
resources:
  ${api}:
    scopes: [read-data, write-data]
delegation:
  act_for: { anyone: true }
  subject_token_audiences: [${api}]
`;
// The same, but its policy names no PAT audience.
const strangerYaml = toolYaml.replace('client_id: pat-tool', 'client_id: stranger').replace(`  subject_token_audiences: [${api}]\n`, '');

const fixtureMain = readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8');
const mainYaml = `${fixtureMain.replace('rate_limits:\n', 'rate_limits:\n  pat_creations: { max: 1000 }\n  pat_failures: { max: 8, window_seconds: 300 }\n')}pats:\n  max_ttl_days: 60\n  max_per_person: 4\n`;

describe('personal access tokens', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  const clock = testClock();
  const jar: Jar = cookieJar();
  let sub: string;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ now: clock.now, files: { 'consulate.yaml': mainYaml, 'clients/pat-tool.yaml': toolYaml, 'clients/stranger.yaml': strangerYaml } }));
    const outcome = await drive(server, okta, jar, `${server.url}/account/tokens`, { username: 'alice@example.com' });
    expect(outcome.page?.status).toBe(200);
    sub = (await server.deps.store.logins.findSession(hashId(jar.cookies.get('consulate_session')!), clock.now()))!.sub;
  }, 60_000);
  afterAll(async () => stop?.());

  const page = async () => (await jar.fetch(`${server.url}/account/tokens`)).text();
  const post = async (path: string, fields: [string, string][]) => {
    const csrf = hiddenFields(await page()).csrf!;
    const response = await jar.fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([['csrf', csrf], ...fields]), redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location'), html: await response.text() };
  };
  const create = (name: string, scopes: string[], days = '30', resource = api) => post('/account/tokens', [['resource', resource], ['name', name], ['days', days], ...scopes.map((s): [string, string] => ['scope', s])]);
  const tokenIn = (html: string) => /<code class="secret" id="new-token">(csl_pat_[0-9A-Za-z]{38})<\/code>/.exec(html)?.[1];
  const introspect = async (token: string) => (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;
  // The reports server authenticates with client_secret_post; it introspects https://reports.example only.
  const introspectAsReports = async (token: string) => (await postForm(server, '/introspect', { token, client_id: 'reports-api', client_secret: secrets['reports-api'] })).body;
  const exchange = (token: string, client = 'pat-tool', scope = 'read-data') =>
    postForm(server, '/token', { grant_type: exchangeGrant, subject_token: token, subject_token_type: patType, resource: api, scope }, { authorization: basicAuth(client, toolSecret) });
  const rowsOf = async () => server.deps.store.pats.list(sub, clock.now());

  let token: string;

  it('is created with a resource, scopes and an expiry, shown once, and only its keyed hash is stored', async () => {
    const created = await create('laptop script', ['read-data', 'write-data']);
    expect(created.status).toBe(200);
    token = tokenIn(created.html)!;
    expect(token).toMatch(patPattern);
    expect(token.slice(-6)).toBe(checksumOf(token.slice(8, 40)));
    expect(created.html).toContain('Copy it now: it will not be shown again.');

    const again = await page();
    expect(again).not.toContain(token);
    expect(again).toContain('<strong>laptop script</strong> for Demo API: read-data, write-data');
    expect(again).toContain('never used');
    const [row] = await rowsOf();
    expect(row).toMatchObject({ name: 'laptop script', resource: api, scopes: ['read-data', 'write-data'], expiresAt: clock.now() + 30 * 86400 });

    // Nowhere in the database files (the SQLite file and its WAL): neither the token nor its random part.
    const files = readdirSync(server.dataDir).filter((f) => f.startsWith('consulate.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(join(server.dataDir, file)).toString('latin1');
      expect(bytes.includes(token)).toBe(false);
      expect(bytes.includes(token.slice(8, 40))).toBe(false);
    }
    const receipts = (await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'pat.created');
    expect(receipts).toMatchObject([{ subject: sub, details: { pat: row!.id, aud: api, scope: 'read-data write-data' } }]);
    expect(JSON.stringify(receipts)).not.toContain(token);
  });

  it('introspects active for a resource server of its resource, inactive for another; its last use is listed', async () => {
    const answer = await introspect(token);
    expect(answer).toMatchObject({ active: true, token_type: 'pat', sub, scope: 'read-data write-data', aud: api, exp: clock.now() + 30 * 86400, iss: server.issuer });
    expect(answer.client_id).toBeUndefined();
    expect(await introspectAsReports(token)).toEqual({ active: false });
    expect((await rowsOf())[0]?.lastUsedAt).toBe(clock.now());
    expect(await page()).toMatch(/last used \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  });

  it('is exchanged (RFC 8693) for a short-lived Passport that jose verifies, with a receipt; not by a client whose policy does not allow it', async () => {
    const response = await exchange(token);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'read-data' });
    const { payload } = await jwtVerify(response.body.access_token as string, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: api, typ: 'at+jwt', currentDate: new Date(clock.now() * 1000) });
    expect(payload).toMatchObject({ sub, scope: 'read-data', act: { sub: 'pat-tool' } });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    const receipt = (await server.deps.store.audit.list({ limit: 5000 })).find((r) => r.event === 'passport.exchanged' && r.tokenJti === payload.jti);
    expect(receipt).toMatchObject({ clientId: 'pat-tool', subject: sub, details: { subject_origin: 'pat' } });

    // Wider than the PAT: refused.
    expect((await exchange(token, 'pat-tool', 'admin-action')).status).toBe(400);
    const stranger = await exchange(token, 'stranger');
    expect(stranger.status).toBe(400);
    expect(stranger.body.error).toBe('invalid_grant');
  });

  it('a forged token (bad checksum) is refused without a database lookup; an unknown well-formed one after one', async () => {
    const store = server.deps.store.pats as { findByHash: (hash: string) => Promise<unknown> };
    const original = store.findByHash;
    let lookups = 0;
    store.findByHash = (hash) => {
      lookups++;
      return original(hash);
    };
    try {
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      const forged = `${token.slice(0, -1)}${last}`;
      const refused = await exchange(forged);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
      expect(await introspect(forged)).toEqual({ active: false });
      expect(lookups).toBe(0);
      const random = 'Z'.repeat(32);
      const unknown = `csl_pat_${random}${checksumOf(random)}`;
      expect(await introspect(unknown)).toEqual({ active: false });
      expect((await exchange(unknown)).status).toBe(400);
      expect(lookups).toBe(2);
    } finally {
      store.findByHash = original;
    }
  });

  it('scopes beyond the resource\'s, Consulate\'s own resources, and expiries beyond the cap are refused at creation', async () => {
    const before = (await rowsOf()).length;
    for (const attempt of [create('x', ['not-a-scope']), create('x', []), create('x', ['read-data'], '61'), create('x', ['agents:read'], '30', 'https://admin.test.example')]) {
      const refused = await attempt;
      expect(refused.status).toBe(400);
      expect(tokenIn(refused.html)).toBeUndefined();
    }
    expect((await rowsOf()).length).toBe(before);
  });

  it('revoked: introspection inactive, exchange refused, and the Passports exchanged from it stop working', async () => {
    const exchanged = (await exchange(token)).body.access_token as string;
    expect((await introspect(exchanged)).active).toBe(true);
    const [row] = await rowsOf();
    const revoked = await post('/account/tokens/revoke', [['id', row!.id]]);
    expect(revoked.status).toBe(303);
    expect(revoked.location).toBe('/account/tokens?done=revoked');
    expect(await (await jar.fetch(`${server.url}${revoked.location}`)).text()).toContain('<p role="status">Token revoked');

    expect(await introspect(token)).toEqual({ active: false });
    expect((await exchange(token)).status).toBe(400);
    expect((await introspect(exchanged)).active).toBe(false);
    expect((await server.deps.store.audit.list({ limit: 5000 })).filter((r) => r.event === 'pat.revoked')).toMatchObject([{ subject: sub, details: { pat: row!.id, by: 'person' } }]);
    // Again: not among the person's revocable tokens.
    expect((await post('/account/tokens/revoke', [['id', row!.id]])).status).toBe(404);
  });

  let kept: string;

  it('a person holds at most pats.max_per_person live tokens', async () => {
    const live = (await rowsOf()).filter((r) => r.revokedAt === undefined).length;
    for (let i = live; i < 4; i++) {
      const created = await create(`t${i}`, ['read-data']);
      expect(created.status).toBe(200);
      kept = tokenIn(created.html)!;
    }
    const refused = await create('one too many', ['read-data']);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('You already have 4 tokens: revoke one first.');
    expect(tokenIn(refused.html)).toBeUndefined();
    expect((await rowsOf()).filter((r) => r.revokedAt === undefined)).toHaveLength(4);
  });

  it('expires', async () => {
    // Room for one more: revoke one of the four (the person's own revocation, through the page).
    const spare = (await rowsOf()).find((r) => r.revokedAt === undefined && r.name === 't0')!;
    expect((await post('/account/tokens/revoke', [['id', spare.id]])).status).toBe(303);
    const short = tokenIn((await create('one day', ['read-data'], '1')).html)!;
    expect((await introspect(short)).active).toBe(true);
    clock.advance(86400);
    expect(await introspect(short)).toEqual({ active: false });
    expect((await exchange(short)).status).toBe(400);
    expect((await introspect(kept)).active).toBe(true);
  });

  it('too many failed presentations from one address: 429 before any lookup, even for a good token', async () => {
    let answer = await exchange('csl_pat_0000');
    for (let i = 0; i < 10 && answer.status !== 429; i++) answer = await exchange('csl_pat_0000');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(answer.body.error).toBe('temporarily_unavailable');
    expect((await exchange(kept)).status).toBe(429);
    // Introspection is by authenticated resource servers, and is not limited by it.
    expect((await introspect(kept)).active).toBe(true);
  });
});
