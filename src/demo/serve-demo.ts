// `consulate serve --demo`: beside a running Consulate, the stand-in upstream IdPs, the demo app (a
// relying party) and the demo API (a resource server guarded by src/sdk/). Loaded by `serve` only
// when --demo is given, so a production server never loads oidc-provider and the demo apps.
import type { RunningServer } from '../main.ts';
import { startDemoApi, type DemoApi } from './demo-api.ts';
import { startDemoApp, type DemoApp } from './demo-app.tsx';
import { startDemoUpstreams } from './start.ts';

const demoApiResource = 'https://api.demo.example';
/** CONSULATE_DEMO_API_PORT moves it (0: any free port, as the tests do). */
const demoApiPort = (): number => Number(process.env.CONSULATE_DEMO_API_PORT ?? 8091);

export type RunningDemo = {
  /** What to tell the person at the terminal: where to sign in, who the demo people are. */
  lines: string;
  close(): Promise<void>;
};

/** Starts what the config asks for; on failure, stops what it started and throws. */
export async function startDemo(server: RunningServer): Promise<RunningDemo> {
  let demo: Awaited<ReturnType<typeof startDemoUpstreams>> | undefined;
  let demoApp: DemoApp | undefined;
  let demoApi: DemoApi | undefined;
  const close = async () => {
    await Promise.all([demo?.close(), demoApp?.close(), demoApi?.close()]);
  };
  try {
    demo = await startDemoUpstreams(server.config, server.issuer);
    server.deps.log.info({ issuers: demo.upstreams.map((u) => u.issuer) }, 'demo upstreams started');
    const demoClient = server.config.clients.get('demo-app');
    if (demoClient?.redirect_uris.length) {
      demoApp = await startDemoApp({ issuer: server.issuer, client: demoClient });
      server.deps.log.info({ url: demoApp.url }, 'demo app started');
    }
    if (server.config.resources.has(demoApiResource)) {
      demoApi = await startDemoApi({ issuer: server.issuer, resource: demoApiResource, port: demoApiPort() });
      server.deps.log.info({ url: demoApi.url }, 'demo API started');
    }
  } catch (error) {
    await close();
    throw error;
  }
  const base = server.issuer.replace(/\/$/, '');
  const lines = demo.upstreams.length
    ? `\nDemo upstream IdPs (stand-ins, offline):\n${demo.upstreams.map((u) => `  ${u.kind.padEnd(6)} ${u.issuer}   people: ${u.accounts.map((a) => a.username).join(', ')}`).join('\n')}\n  Sign in at ${base}/login${demoApp ? `, or open the demo app: ${demoApp.url}` : ''}\n${demoApi ? `  Demo API (a resource server guarded by Passports): ${demoApi.url}/data\n` : ''}`
    : '';
  return { lines, close };
}
