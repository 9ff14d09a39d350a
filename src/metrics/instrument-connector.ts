// Times an upstream connector's calls (consulate_upstream_request_duration_seconds): `authorize` is
// building the authorization URL (discovery when it is not cached yet), `token` is completing the
// login (code exchange, ID token keys, userinfo). Failed calls are timed too.
import type { UpstreamConnector } from '../federation/connector.ts';
import type { Metrics } from './metrics.ts';

export function instrumentConnector(connector: UpstreamConnector, metrics: Metrics): UpstreamConnector {
  const time = async <T>(call: 'authorize' | 'token', work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      metrics.upstreamCall(connector.id, call, (performance.now() - started) / 1000);
    }
  };
  return {
    id: connector.id,
    loginUrl: (request) => time('authorize', () => connector.loginUrl(request)),
    completeLogin: (callbackUrl, checks) => time('token', () => connector.completeLogin(callbackUrl, checks)),
  };
}
