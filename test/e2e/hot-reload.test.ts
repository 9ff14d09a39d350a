// Hot reload: a change under config/ takes effect without a restart once it is valid; an invalid
// change is logged as file:line:col and the running config stays in force.
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';

const lateSecret = 'late-agent-secret-0123456789abcdefghijklmnopqrstu';
const lateAgent = ['client_id: late-agent', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: ${hashSecret(lateSecret)}`, 'resources:', '  https://api.demo.example:', '    scopes: [read-data]'].join('\n');

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hot reload of config/', () => {
  let server: TestConsulate;
  const token = (id: string, secret: string) => postForm(server, '/token', { grant_type: 'client_credentials', scope: 'read-data' }, { authorization: basicAuth(id, secret) });

  beforeAll(async () => {
    server = await startConsulate({ files: { 'consulate.yaml': 'listen: { host: 127.0.0.1, port: 0 }\nreload: { debounce_ms: 50 }\nkeys: { reload_seconds: 0.05 }\n' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a new client file works without a restart, and the reload writes a receipt', async () => {
    expect((await token('late-agent', lateSecret)).status).toBe(401);
    writeFileSync(join(server.configDir, 'clients/late-agent.yaml'), lateAgent);
    const ok = await until(async () => ((await token('late-agent', lateSecret)).status === 200 ? true : undefined));
    expect(ok).toBe(true);
    expect(server.config.clients.has('late-agent')).toBe(true);
    const reloads = (await server.deps.store.audit.list()).filter((r) => r.event === 'config.reloaded');
    expect(reloads.length).toBeGreaterThan(0);
    expect(reloads.at(-1)!.details).toMatchObject({ trigger: 'watch' });
  });

  it('an invalid change is logged as file:line:col and the running config stays in force', async () => {
    const file = join(server.configDir, 'clients/late-agent.yaml');
    appendFileSync(file, '\ngrant_types: [teleport]\n');
    const line = await until(() => server.logs.find((l) => typeof l.msg === 'string' && (l.msg as string).includes('late-agent.yaml:')));
    expect(line.msg).toMatch(/clients\/late-agent\.yaml:7:15 {2}grant_types\[0\] {2}Invalid option/);
    expect(line.level).toBe(50);
    // The client as it was still works; nothing of the broken file was applied.
    expect((await token('late-agent', lateSecret)).status).toBe(200);
    expect(server.config.clients.get('late-agent')?.grant_types).toEqual(['client_credentials']);
    // A reload by call says so too, and so does /readyz: the config in force is stale.
    expect(await server.reload('test')).toBe(false);
    const readiness = async () => (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; config: { loaded_at: number; stale: boolean; last_reload?: { trigger: string; outcome: string; problems?: number } } };
    const refused = await readiness();
    expect(refused).toMatchObject({ status: 'ready', config: { stale: true, last_reload: { trigger: 'test', outcome: 'refused', problems: 1 } } });
    writeFileSync(file, lateAgent);
    expect(await server.reload('test')).toBe(true);
    const applied = await readiness();
    expect(applied).toMatchObject({ status: 'ready', config: { stale: false, last_reload: { trigger: 'test', outcome: 'applied' } } });
    expect(applied.config.loaded_at).toBeGreaterThanOrEqual(refused.config.loaded_at);
  });

  it('every save by rename (as editors and `consulate agent` save) is seen, not only the first', async () => {
    const file = join(server.configDir, 'clients/late-agent.yaml');
    const saveByRename = (text: string) => {
      writeFileSync(`${file}.tmp~`, text);
      renameSync(`${file}.tmp~`, file);
    };
    const scopes = (list: string) => lateAgent.replace('scopes: [read-data]', `scopes: [${list}]`);
    for (const list of ['read-data, write-data', 'read-data', 'write-data', 'read-data']) {
      saveByRename(scopes(list));
      await until(() => (server.config.clients.get('late-agent')?.resources['https://api.demo.example']?.scopes.join(', ') === list ? true : undefined));
    }
  });

  it('a config directory created after the start is watched too', async () => {
    mkdirSync(join(server.configDir, 'issuers'), { recursive: true });
    writeFileSync(join(server.configDir, 'issuers/partner.yaml'), 'id: partner\nissuer: https://idp.partner.example\njwks_uri: https://idp.partner.example/jwks\n');
    await until(() => (server.config.issuers.has('partner') ? true : undefined));
    rmSync(join(server.configDir, 'issuers/partner.yaml'));
    await until(() => (server.config.issuers.has('partner') ? undefined : true));
  });

  it('a removed client stops working at once', async () => {
    rmSync(join(server.configDir, 'clients/late-agent.yaml'));
    expect(await server.reload('test')).toBe(true);
    expect((await token('late-agent', lateSecret)).status).toBe(401);
  });

  it('requests in flight during a reload are served whole by one config', async () => {
    writeFileSync(join(server.configDir, 'clients/late-agent.yaml'), lateAgent);
    const results = await Promise.all([server.reload('test'), ...Array.from({ length: 20 }, () => token('agent-basic', 'basic-secret-0123456789abcdefghijklmnopqrstuvwxyz'))]);
    expect(results[0]).toBe(true);
    for (const response of results.slice(1) as Awaited<ReturnType<typeof token>>[]) expect(response.status).toBe(200);
  });
});
