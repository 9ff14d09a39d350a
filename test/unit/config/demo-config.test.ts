// The committed demo config (config/) loads as shipped, and the loaded config cannot be changed.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySecret } from '../../../src/clients/secrets.ts';
import { loadConfig } from '../../../src/config/load.ts';

const demoDir = resolve(import.meta.dirname, '../../../config');

describe('the demo config', () => {
  const config = loadConfig(demoDir, { env: {} });

  it('loads with its seven clients (three agents, one operator) and four resources', async () => {
    expect(config.dir).toBe(demoDir);
    expect([...config.clients.keys()].sort()).toEqual(['demo-agent', 'demo-api', 'demo-app', 'demo-operator', 'digital-assistant', 'notes-mcp-server', 'shopping-assistant']);
    expect(config.clients.get('digital-assistant')).toMatchObject({ kind: 'agent', owner: 'alice@example.com', state: 'active', delegation: { subject_token_clients: ['demo-app'], max_chain: 2 } });
    expect([...config.resources.keys()].sort()).toEqual(['http://127.0.0.1:8092/mcp', 'http://localhost:8080/admin', 'https://api.demo.example', 'https://shop.demo.example']);
    // MCP clients (document URLs, registration) may reach only the notes MCP server.
    expect(Object.keys(config.main.client_id_metadata_documents.resources)).toEqual(['http://127.0.0.1:8092/mcp']);
    expect(config.main.dynamic_registration).toMatchObject({ enabled: true, resources: { 'http://127.0.0.1:8092/mcp': { scopes: ['notes:read', 'notes:write'] } } });
    expect(config.main.issuer).toBe('http://localhost:8080');
    // The demo operator: the admin API's resource (the default <issuer>/admin) with every admin scope.
    expect(Object.keys(config.clients.get('demo-operator')?.resources ?? {})).toEqual(['http://localhost:8080/admin']);
    // Its secret, as the welcome text prints it, matches its hash.
    const operatorSecret = /client_id: +demo-operator\n +client_secret: +(\S+)/.exec(config.main.welcome ?? '')?.[1];
    expect(await verifySecret(operatorSecret ?? '', config.clients.get('demo-operator')?.secret_hash)).toBe(true);
    expect(config.main.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    // Defaults fill in what the file leaves out.
    expect(config.main.passports.max_ttl_seconds).toBe(3600);
    expect(config.main.keys.activation_delay_seconds).toBe(600);
    expect(config.clients.get('demo-api')?.grant_types).toEqual([]);
    expect(config.clients.get('demo-agent')?.resources['https://api.demo.example']?.scopes).toEqual(['read-data', 'write-data']);
    // The demo app: a public browser client on a loopback redirect URI.
    expect(config.clients.get('demo-app')).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1:8090/callback'] });
    // One policy: agents writing need the person's consent, payments over 100 two approvers from Finance.
    expect([...config.policies.keys()]).toEqual(['demo']);
    expect(config.policies.get('demo')?.rules.map((r) => r.name)).toEqual(['payments-over-100', 'agent-writes']);
  });

  it('is deeply frozen', () => {
    const agent = config.clients.get('demo-agent');
    const api = config.resources.get('https://api.demo.example');
    for (const value of [config, config.main, config.main.listen, config.main.passports, agent, agent?.resources, agent?.grant_types, api, api?.scopes]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    // ESM test files are strict mode: writes to frozen objects throw instead of being ignored.
    expect(() => {
      (config.main.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (agent?.grant_types as string[]).push('client_credentials');
    }).toThrow(TypeError);
    expect(config.main.listen.port).toBe(8080);
  });
});
