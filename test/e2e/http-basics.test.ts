// What every HTTP answer shares, whatever produced it (a grant, an error, a page, a 404): the
// nosniff header, a request id, and one structured request line in the log with fixed fields only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm } from './support/clients.ts';
import { secrets, startConsulate, type TestConsulate } from './support/consulate.ts';

describe('every answer', () => {
  let server: TestConsulate;
  beforeAll(async () => {
    server = await startConsulate();
  });
  afterAll(async () => server?.stop());

  it('carries nosniff and a request id, and is logged once with fixed fields', async () => {
    const issued = await postForm(server, '/token', { grant_type: 'client_credentials', resource: 'https://api.demo.example' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']) });
    const refused = await postForm(server, '/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('agent-basic', 'wrong') });
    const page = await fetch(`${server.url}/login`);
    const missing = await fetch(`${server.url}/no-such-thing`);
    const statuses = [issued.status, refused.status, page.status, missing.status];
    expect(statuses).toEqual([200, 401, 200, 404]);
    const ids = [issued.headers, refused.headers, page.headers, missing.headers].map((headers) => {
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      return headers.get('x-request-id');
    });
    const lines = server.logs.filter((line) => line.msg === 'request' && ids.includes(line.req_id as string));
    expect(lines.map((line) => [line.req_id, line.status])).toEqual(ids.map((id, i) => [id, statuses[i]]));
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['level', 'method', 'ms', 'msg', 'path', 'req_id', 'service', 'status', 'time']);
      expect(typeof line.time).toBe('number');
    }
    expect(server.rawLogs()).not.toContain(secrets['agent-basic']);
  });

  it('keeps a sane caller request id, replaces any other, and sends each header once (token and introspection answers too)', async () => {
    const issued = await postForm(server, '/token', { grant_type: 'client_credentials', resource: 'https://api.demo.example' }, { authorization: basicAuth('agent-basic', secrets['agent-basic']), 'x-request-id': 'trace-abc_123=' });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('x-request-id')).toBe('trace-abc_123=');
    const token = (issued.body as { access_token: string }).access_token;
    const answer = await postForm(server, '/introspect', { token }, { authorization: basicAuth('demo-api', secrets['demo-api']), 'x-request-id': 'not a sane id' });
    expect(answer.status).toBe(200);
    expect((answer.body as { active: boolean }).active).toBe(true);
    expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const { headers } of [issued, answer]) {
      // One value each: a header set twice would come through joined (`nosniff, nosniff`).
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('cache-control')).toBe('no-store');
      expect(headers.get('pragma')).toBe('no-cache');
      expect(headers.get('content-type')).toBe('application/json');
    }
    expect(issued.headers.get('consulate-receipt')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
