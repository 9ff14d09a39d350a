// A client whose secret is a scrypt hash (a secret a person chose): checking it never stalls the
// server, wrong secrets are refused, and an unknown client is refused the same way.
import { randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { basicAuth, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';

const chosen = 'correct horse';
const clientYaml = (hash: string) =>
  ['client_id: human-chosen', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: "${hash}"`, 'resources:', '  https://api.demo.example:', '    scopes: [read-data]', ''].join('\n');

describe('scrypt client secrets', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    expect(hashSecret(chosen).startsWith('scrypt:')).toBe(true);
    // Twice the default cost, so each check takes well longer than the test's 20 ms head start even on a busy machine.
    const salt = randomBytes(16);
    const hash = `scrypt:32768:8:1:${salt.toString('base64url')}:${scryptSync(chosen, salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('base64url')}`;
    server = await startConsulate({ files: { 'clients/human-chosen.yaml': clientYaml(hash) } });
  });
  afterAll(async () => server?.stop());

  const token = (id: string, secret: string) => postForm(server, '/token', { grant_type: 'client_credentials', resource: 'https://api.demo.example' }, { authorization: basicAuth(id, secret) });

  it('the right secret gets a Passport; a wrong one and an unknown client get the same invalid_client', async () => {
    expect((await token('human-chosen', chosen)).status).toBe(200);
    const wrong = await token('human-chosen', 'wrong horse');
    const unknown = await token('nobody-here', 'wrong horse');
    expect([wrong.status, wrong.body]).toEqual([401, { error: 'invalid_client', error_description: expect.any(String) }]);
    expect([unknown.status, unknown.body]).toEqual([wrong.status, wrong.body]);
  });

  it('the server keeps answering while 30 wrong scrypt checks are in flight (they run off the event loop)', async () => {
    const order: string[] = [];
    const attempts = Array.from({ length: 30 }, (_, i) =>
      token(i % 2 ? 'human-chosen' : 'nobody-here', `wrong-${i}`).then((answer) => {
        order.push('attempt');
        return answer.status;
      }),
    );
    // Sent after all 30: with a synchronous scrypt it could only be answered after at least one of them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const health = fetch(`${server.url}/healthz`).then((response) => {
      order.push('healthz');
      return response.status;
    });
    expect(await health).toBe(200);
    expect(await Promise.all(attempts)).toEqual(Array(30).fill(401));
    expect(order[0]).toBe('healthz');
  });
});
