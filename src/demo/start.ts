// `consulate serve --demo`: starts a stand-in IdP for every configured upstream whose issuer is on
// loopback, on that issuer's port, with Consulate registered as its client. Offline, demo only.
import type { Config } from '../config/load.ts';
import { callbackPath } from '../federation/browser-login.ts';
import { isMultiTenantAuthority } from '../federation/entra-tenants.ts';
import { startUpstream, type Upstream } from './upstream-idp.ts';

const loopback = new Set(['localhost', '127.0.0.1']);

export async function startDemoUpstreams(config: Config, issuer: string): Promise<{ upstreams: Upstream[]; close: () => Promise<void> }> {
  const started: Upstream[] = [];
  try {
    for (const upstream of config.upstreams.values()) {
      const url = new URL(upstream.issuer);
      if (url.protocol !== 'http:' || !loopback.has(url.hostname) || !url.port) continue;
      const tenantId = upstream.kind === 'entra' ? /^\/([^/]+)\/v2\.0\/?$/.exec(url.pathname)?.[1] : undefined;
      const multiTenant = isMultiTenantAuthority(upstream.kind, upstream.issuer);
      started.push(
        await startUpstream({
          kind: upstream.kind,
          port: Number(url.port),
          ...(multiTenant ? { multiTenant: { authority: tenantId as 'organizations' | 'common' } } : tenantId ? { tenantId } : {}),
          clients: [{ client_id: upstream.client_id, client_secret: upstream.client_secret, redirect_uris: [`${issuer.replace(/\/$/, '')}${callbackPath(upstream.id)}`] }],
        }),
      );
    }
  } catch (error) {
    await Promise.all(started.map((u) => u.close()));
    throw error;
  }
  return { upstreams: started, close: async () => void (await Promise.all(started.map((u) => u.close()))) };
}
