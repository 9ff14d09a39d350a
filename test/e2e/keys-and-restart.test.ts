// Key rotation while Passports are live (the operator runs `consulate keys rotate` against the
// running server's database), and a restart that keeps keys, revocations and used assertion ids.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { consulateCommand } from './support/cli.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { basicAuth, postForm, testClock } from './support/clients.ts';
import { clientKey, jwtClientYaml } from './support/keys.ts';

const api = 'https://api.demo.example';
const run = promisify(execFile);

/** Runs the CLI; returns the new kids and when they start signing (the CLI's own clock decides). */
async function rotate(server: TestConsulate, activateIn: number): Promise<{ kids: string[]; activatesAt: number }> {
  const { stdout } = await run(...consulateCommand(['keys', 'rotate', '--config', server.configDir, '--data-dir', server.dataDir, '--activate-in', String(activateIn)]), {
    env: { PATH: process.env.PATH, ...fixtureEnv() },
    timeout: 20_000,
  });
  const lines = stdout.trim().split('\n');
  const activatesAt = Date.parse(/signs from (\S+)/.exec(lines[0] ?? '')?.[1] ?? '') / 1000;
  return { kids: lines.map((line) => line.split(/\s+/)[1] as string), activatesAt };
}

const issue = async (server: TestConsulate) => {
  const response = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
  expect(response.status).toBe(200);
  return response.body.access_token as string;
};
const introspect = async (server: TestConsulate, token: string) =>
  (await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']) })).body;
const jwksKids = async (server: TestConsulate) => ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('signing keys', () => {
  let server: TestConsulate | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('JWKS holds public parts only, one unique kid per key', async () => {
    server = await startConsulate();
    const { keys } = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Record<string, string>[] };
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length);
    for (const key of keys) for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(privatePart);
  });

  it('rotation publishes the next key before it signs; old Passports keep verifying until they expire', async () => {
    const clock = testClock();
    server = await startConsulate({ now: clock.now });
    const before = await issue(server);
    const oldKid = decodeProtectedHeader(before).kid as string;

    const { kids: [newEsKid, newRsKid], activatesAt } = await rotate(server, 100);
    expect(activatesAt).toBeGreaterThan(clock.now());
    // The rotation is a receipt naming who ran it, as the admin API's is.
    expect((await server.deps.store.audit.list({ limit: 1000 })).filter((r) => r.event === 'keys.rotated')).toMatchObject([{ details: { by: expect.stringMatching(/^operator:cli/), kids: [newEsKid, newRsKid] } }]);
    // 1. Published at once, not yet signing.
    await new Promise((r) => setTimeout(r, 100)); // the server re-reads keys every 50 ms in tests
    expect(await jwksKids(server)).toEqual(expect.arrayContaining([oldKid, newEsKid, newRsKid]));
    expect(decodeProtectedHeader(await issue(server)).kid).toBe(oldKid);

    // 2. After the activation delay the new key signs; the old one stays published and valid.
    clock.set(activatesAt);
    const after = await issue(server);
    expect(decodeProtectedHeader(after).kid).toBe(newEsKid);
    expect(await jwksKids(server)).toContain(oldKid);
    expect((await introspect(server, before)).active).toBe(true);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    await expect(jwtVerify(before, jwks, { issuer: server.issuer, currentDate: new Date(clock.now() * 1000) })).resolves.toBeTruthy();

    // 3. Once every Passport it signed has expired (max lifetime + skew), the old key leaves JWKS.
    clock.set(activatesAt + 3600 + 30);
    expect(await jwksKids(server)).not.toContain(oldKid);
    expect(await jwksKids(server)).toContain(newEsKid);
  });
});

describe('restart', () => {
  it('keys, Passports, revocations and used assertion ids survive a restart', async () => {
    const key = await clientKey('ES256');
    const files = { 'clients/agent-jwt.yaml': jwtClientYaml('agent-jwt', { jwks: [key.jwk] }) };
    let server = await startConsulate({ files });
    const { dir, issuer } = server;
    try {
      const kept = await issue(server);
      const revoked = await issue(server);
      await postForm(server, '/revoke', { token: revoked }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
      const kidsBefore = await jwksKids(server);
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid })
        .setIssuer('agent-jwt')
        .setSubject('agent-jwt')
        .setAudience(server.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 120)
        .sign(key.privateKey);
      const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
      expect((await postForm(server, '/token', form)).status).toBe(200);
      await server.stop({ keepData: true });

      // Same data directory and issuer, a fresh server (new port, empty caches).
      server = await startConsulate({ dir, reuseConfig: true, issuer });
      expect(await jwksKids(server)).toEqual(kidsBefore);
      expect((await introspect(server, kept)).active).toBe(true);
      expect(await introspect(server, revoked)).toEqual({ active: false });
      // The assertion's jti was used before the restart: a replay is still refused.
      const replay = await postForm(server, '/token', form);
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('invalid_client');
    } finally {
      await server.stop();
    }
  });
});
