// The demo API: a small resource server on loopback that accepts Consulate's Passports through the
// guard (src/sdk/), as a user's own API would. GET /data needs read-data, POST /data write-data,
// POST /tools/echo an authorization detail of type `tool` for `echo` with action `call`; every
// answer shows who called (sub, act, client_id). It serves its RFC 9728 metadata. Demo only: notes
// live in memory (a few, bounded); it is not part of the server and must not import its internals.
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createServer, type Server } from 'node:http';
import { listenOn } from '../http/listen.ts';
import type { AddressInfo } from 'node:net';
import { createPassportGuard, passportGuard, protectedResourceMetadata, protectedResourceMetadataPath, type Passport, type PassportEnv, type PassportGuard, type PassportGuardOptions } from '../sdk/index.ts';

export type DemoApiOptions = {
  issuer: string;
  /** This API's resource identifier (the Passports' `aud`). Default https://api.demo.example. */
  resource?: string;
  host?: string;
  /** Default 0: any free port. */
  port?: number;
} & Partial<Pick<PassportGuardOptions, 'jwksUri' | 'dpop' | 'introspection' | 'now' | 'clockSkewSeconds' | 'fetch'>>;

export type DemoApi = { url: string; resource: string; metadataUrl: string; guard: PassportGuard; close(): Promise<void> };

const scopes = ['read-data', 'write-data'];
const maxNotes = 20;

/** Who called, as the API shows it: authorize on `sub`, record `act.sub`, keep the client in `azp`. */
const callerOf = (passport: Passport, dpop: { jkt: string } | undefined) => ({
  sub: passport.sub,
  client_id: passport.client_id,
  ...(passport.azp !== undefined ? { azp: passport.azp } : {}),
  ...(passport.act !== undefined ? { act: passport.act } : {}),
  ...(passport.did !== undefined ? { did: passport.did } : {}),
  scope: passport.scope ?? '',
  ...(dpop ? { dpop_jkt: dpop.jkt } : {}),
});

const pick = <T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> =>
  Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]])) as Partial<Pick<T, K>>;

export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const resource = options.resource ?? 'https://api.demo.example';
  const host = options.host ?? '127.0.0.1';
  // 1. Listen first, so the public URL (what DPoP proofs name) is known before the guard is built.
  const server: Server = createServer();
  await listenOn(server, options.port ?? 0, host, 'the demo API');
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metadataUrl = `${url}${protectedResourceMetadataPath}`;

  // 2. One guard for every route, so DPoP replay is checked across the whole API.
  const { issuer } = options;
  const guard = createPassportGuard({
    issuer,
    resource,
    resourceMetadataUrl: metadataUrl,
    ...pick(options, ['jwksUri', 'dpop', 'introspection', 'now', 'clockSkewSeconds', 'fetch']),
  });
  const guarded = (needs: Parameters<typeof passportGuard>[1]) => passportGuard(guard, { publicUrl: url, ...needs });

  // 3. Routes.
  const notes: { text: string; by: string }[] = [];
  const app = new Hono<PassportEnv>();
  app.get(protectedResourceMetadataPath, protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported: scopes, authorizationDetailsTypesSupported: ['tool'], dpopRequired: guard.dpopRequired, resourceName: 'Demo API' }));
  app.get('/data', guarded({ scopes: ['read-data'] }), (c) => c.json({ resource, caller: callerOf(c.get('passport'), c.get('dpop')), notes }));
  app.post('/data', bodyLimit({ maxSize: 4096, onError: (c) => c.json({ error: 'invalid_request', error_description: 'body too large' }, 413) }), guarded({ scopes: ['write-data'] }), async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { text?: unknown } | undefined;
    if (typeof body?.text !== 'string' || body.text.length === 0 || body.text.length > 200) return c.json({ error: 'invalid_request', error_description: 'send {"text": "..."} (1-200 characters)' }, 400);
    const caller = callerOf(c.get('passport'), c.get('dpop'));
    notes.push({ text: body.text, by: caller.sub });
    if (notes.length > maxNotes) notes.shift();
    return c.json({ resource, caller, stored: body.text }, 201);
  });
  app.post('/tools/echo', guarded({ authorizationDetails: [{ type: 'tool', actions: ['call'], where: { tool: 'echo' } }] }), async (c) => {
    const body = await c.req.text();
    return c.json({ resource, caller: callerOf(c.get('passport'), c.get('dpop')), echo: body.slice(0, 200) });
  });
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((_error, c) => c.json({ error: 'server_error' }, 500));

  server.on('request', getRequestListener(app.fetch));
  return {
    url,
    resource,
    metadataUrl,
    guard,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
