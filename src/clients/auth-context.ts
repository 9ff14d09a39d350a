// What client authentication needs from the running server (issuer, replay store, key sets, the
// assertion limits of the config, the secret decoy, rate limits): shared by every endpoint that
// authenticates a client (token, introspection, revocation, PAR, CIBA, device authorization, usage).
import type { Deps } from '../deps.ts';
import type { ClientAuthContext } from './authenticate.ts';

export function assertionContext(deps: Deps, now: number): ClientAuthContext {
  const { client_assertions } = deps.config.main;
  return {
    issuer: deps.issuer,
    now,
    replay: deps.store.replay,
    keySets: deps.clientKeySets,
    maxLifetimeSeconds: client_assertions.max_lifetime_seconds,
    clockSkewSeconds: client_assertions.clock_skew_seconds,
    secretDecoy: deps.secretDecoy,
    limits: deps.rateLimits,
  };
}
