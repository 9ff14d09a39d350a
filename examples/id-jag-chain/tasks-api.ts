// The tasks API: the resource behind Consulate B, guarded by the SDK (src/sdk/index.ts). It
// accepts only Passports B issued for it (signature against B's JWKS, `iss`, `aud`, expiry, scope):
//   GET  /tasks   scope tasks:read    the person's tasks, and who asked for them
//   POST /tasks   scope tasks:write   (the worker's Passport, narrower, is refused here)
// Authorize on `sub` (the person), record `act` (the chain of agents acting for them). Example
// only: the tasks are a fixed list, and the calls it saw are kept in memory, a bounded few.
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPassportGuard, passportGuard, protectedResourceMetadata, protectedResourceMetadataPath, type PassportEnv } from '../../src/sdk/index.ts';

export const tasksResource = 'https://tasks.example';

/** What the API saw of each accepted call: whose tasks, and which agents asked, current actor first. */
export type TasksCall = { route: string; sub: string; actors: string[]; scope: string };

export type TasksApi = { url: string; resource: string; calls: readonly TasksCall[]; close(): Promise<void> };

const maxCalls = 50;

/** The actor chain of a Passport's `act` claim (RFC 8693 §4.1): current actor first. */
export function actorsOf(act: unknown): string[] {
  const actors: string[] = [];
  for (let at = act as { sub?: unknown; act?: unknown } | undefined, depth = 0; at && typeof at.sub === 'string' && depth < 10; at = at.act as typeof at, depth++) actors.push(at.sub);
  return actors;
}

export async function startTasksApi(options: { issuer: string; host?: string; port?: number }): Promise<TasksApi> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const guard = createPassportGuard({ issuer: options.issuer, resource: tasksResource, resourceMetadataUrl: `${url}${protectedResourceMetadataPath}` });
  const calls: TasksCall[] = [];
  const saw = (c: Context<PassportEnv>, route: string) => {
    const p = c.get('passport');
    calls.push({ route, sub: p.sub, actors: actorsOf(p.act), scope: p.scope ?? '' });
    if (calls.length > maxCalls) calls.shift();
    return p;
  };

  const app = new Hono<PassportEnv>();
  app.get(protectedResourceMetadataPath, protectedResourceMetadata({ resource: tasksResource, authorizationServers: [options.issuer], scopesSupported: ['tasks:read', 'tasks:write'], resourceName: 'Tasks API' }));
  app.get('/tasks', passportGuard(guard, { publicUrl: url, scopes: ['tasks:read'] }), (c) => {
    const p = saw(c, 'GET /tasks');
    return c.json({ owner: p.sub, asked_by: actorsOf(p.act), tasks: [{ id: 1, title: 'Review the quarterly plan' }, { id: 2, title: 'Book the team offsite' }] });
  });
  app.post('/tasks', passportGuard(guard, { publicUrl: url, scopes: ['tasks:write'] }), (c) => {
    const p = saw(c, 'POST /tasks');
    return c.json({ owner: p.sub, created: { id: 3, title: 'New task' } }, 201);
  });
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((_error, c) => c.json({ error: 'server_error' }, 500));
  server.on('request', getRequestListener(app.fetch));
  return {
    url,
    resource: tasksResource,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
