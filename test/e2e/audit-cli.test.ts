// The receipt chain as an auditor meets it: receipts written by a running Consulate, walked by
// `consulate audit verify`, exported as JSON Lines with a signed checkpoint, verified offline
// against the JWKS, and every kind of tampering found and named.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConsulate } from './support/cli.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';

const api = 'https://api.demo.example';

/** The CLI with the fixture's secrets in its environment (the config references them). */
const consulate = (args: string[], env: NodeJS.ProcessEnv) => runConsulate(args, { ...fixtureEnv(), ...env });

describe('consulate audit', () => {
  let server: TestConsulate;
  let store: string[] = [];
  let env: NodeJS.ProcessEnv;
  let jwksFile: string;
  let exportFile: string;

  beforeAll(async () => {
    server = await startConsulate();
    // Receipts of real traffic: Passports for two clients.
    for (let i = 0; i < 6; i++) {
      const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
      expect(response.status).toBe(200);
    }
    const post = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, client_id: 'agent-post', client_secret: secrets['agent-post'] });
    expect(post.status).toBe(200);
    env = { CONSULATE_CONFIG_DIR: server.configDir, CONSULATE_DATA_DIR: server.dataDir, CONSULATE_ISSUER: server.issuer };
    jwksFile = join(server.dir, 'jwks.json');
    writeFileSync(jwksFile, await (await fetch(`${server.url}/jwks`)).text());
    exportFile = join(server.dir, 'export.jsonl');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const exported = async (args: string[] = []): Promise<string[]> => {
    const result = await consulate(['audit', 'export', ...args], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout.trimEnd().split('\n').filter(Boolean);
  };

  it('verify walks the whole chain in the database', async () => {
    const result = await consulate(['audit', 'verify'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const head = await server.deps.store.audit.head();
    expect(result.stdout).toMatch(new RegExp(`^chain OK: ${head?.seq} receipt\\(s\\), seq 1\\.\\.${head?.seq}, last hash ${head?.hash} \\(\\d+\\.\\d s\\)\\n$`));
  });

  it('export writes every receipt with its hashes, then a checkpoint that verifies against the JWKS', async () => {
    const lines = await exported();
    const head = await server.deps.store.audit.head();
    const receipts = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: head?.seq ?? 0 }, (_, i) => i + 1));
    expect(receipts.filter((r) => r.event === 'passport.issued')).toHaveLength(7);
    const { checkpoint } = JSON.parse(lines.at(-1) as string) as { checkpoint: string };
    const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as JSONWebKeySet;
    const { payload } = await jwtVerify(checkpoint, createLocalJWKSet(jwks), { issuer: server.issuer, typ: 'receipt-checkpoint+jwt' });
    expect(payload).toMatchObject({ seq: head?.seq, hash: head?.hash });
    writeFileSync(exportFile, `${lines.join('\n')}\n`);
    store = lines;

    const offline = await consulate(['audit', 'verify', '--file', exportFile, '--jwks', jwksFile, '--issuer', server.issuer], {});
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(new RegExp(`^chain OK: ${head?.seq} receipt\\(s\\), .*; checkpoint signed by ${server.issuer} at \\S+ verifies\\n$`));
    // The JWKS may also be fetched from the issuer.
    const online = await consulate(['audit', 'verify', '--file', exportFile, '--jwks', `${server.url}/jwks`], {});
    expect(online.code).toBe(0);
  });

  it('verify --file names the first altered, missing or reordered receipt, and a checkpoint that no longer fits', async () => {
    const write = (lines: string[]) => {
      const file = join(server.dir, `tampered-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    };
    const verify = (file: string) => consulate(['audit', 'verify', '--file', file, '--jwks', jwksFile], {});

    const altered = [...store];
    const third = JSON.parse(altered[2] as string) as { details: Record<string, unknown> };
    altered[2] = JSON.stringify({ ...third, details: { ...third.details, scope: 'admin' } });
    const a = await verify(write(altered));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^chain broken at seq 3 \(receipt \S+\): its content does not match its hash: the record was changed; 2 receipt\(s\) before it hold\n$/);

    const missing = store.filter((_, i) => i !== 3);
    const m = await verify(write(missing));
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^chain broken at seq 5 \(receipt \S+\): comes after seq 3: 1 record\(s\) missing/);

    // The last receipt dropped: the chain that is left holds, but the checkpoint signs another end.
    const truncated = [...store.slice(0, -2), store.at(-1) as string];
    const t = await verify(write(truncated));
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^the checkpoint signs seq \d+ with hash [0-9a-f]{64}, but the file ends at seq \d+ with hash [0-9a-f]{64}: the file was changed after export\n$/);

    const unsigned = await verify(write(store.slice(0, -1)));
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('carries no signed checkpoint');

    // A checkpoint signed by another key (forged) does not verify against the issuer's JWKS.
    const { checkpoint } = JSON.parse(store.at(-1) as string) as { checkpoint: string };
    const [header, payload] = checkpoint.split('.');
    const forged = await verify(write([...store.slice(0, -1), JSON.stringify({ checkpoint: `${header}.${payload}.${'A'.repeat(86)}` })]));
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/^the checkpoint of \S+ does not verify: signature verification failed\n$/);

    const garbage = await verify(write(['{"seq": "one"}']));
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/:1: not an exported receipt: seq and at_ms must be numbers\n$/);
  });

  it('export picks receipts by client (without a checkpoint: a pick is not a stretch of the chain) and by time', async () => {
    const picked = (await exported(['--client', 'agent-post'])).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(picked.length).toBeGreaterThan(0);
    expect(picked.every((r) => r.client_id === 'agent-post')).toBe(true);
    expect(picked.some((r) => 'checkpoint' in r)).toBe(false);
    expect(await exported(['--since', String(Math.floor(Date.now() / 1000) + 3600)])).toEqual([]);
    const all = await exported(['--since', '2020-01-01T00:00:00Z']);
    expect(all.length).toBe(store.length);
    const bad = await consulate(['audit', 'export', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a time: yesterday');
  });

  it('GET /receipts/checkpoint: the head, signed, and handed out again until it is due', async () => {
    const first = (await (await fetch(`${server.url}/receipts/checkpoint`)).json()) as { checkpoint: string; seq: number; hash: string };
    const head = await server.deps.store.audit.head();
    expect(first).toMatchObject({ seq: head?.seq, hash: head?.hash });
    expect(decodeProtectedHeader(first.checkpoint)).toMatchObject({ typ: 'receipt-checkpoint+jwt', alg: 'ES256' });
    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet;
    await expect(jwtVerify(first.checkpoint, createLocalJWKSet(jwks), { issuer: server.issuer, typ: 'receipt-checkpoint+jwt' })).resolves.toBeTruthy();
    await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    const again = (await (await fetch(`${server.url}/receipts/checkpoint`)).json()) as { checkpoint: string };
    expect(again.checkpoint).toBe(first.checkpoint);
  });

  it('verify finds a receipt changed in the database itself', async () => {
    const db = new Database(join(server.dataDir, 'consulate.db'));
    try {
      db.prepare("UPDATE audit_records SET client_id = 'someone-else' WHERE seq = 2").run();
    } finally {
      db.close();
    }
    const result = await consulate(['audit', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^chain broken at seq 2 \(receipt \S+\): its content does not match its hash: the record was changed; 1 receipt\(s\) before it hold\n$/);
  });
});
