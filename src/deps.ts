// Composition root: the one place that wires config, store and services together.
import type { ValidateFunction } from 'ajv';
import { secretDecoy } from './clients/secrets.ts';
import { createReceipts, type Receipts } from './audit/receipts.ts';
import { createClientKeySets, type ClientKeySets } from './clients/assertion.ts';
import { createClientDocuments, type ClientDocuments } from './clients/directory.ts';
import { compileRuleSet, type CompiledRuleSet } from './claims/engine.ts';
import type { Config } from './config/load.ts';
import { createAssertionIssuers, type AssertionIssuers } from './delegation/assertion-issuers.ts';
import type { NonceIssuer } from './dpop/nonce.ts';
import { createDpopNonces } from './dpop/request.ts';
import { ruleSetIdOf } from './config/mappings.ts';
import type { UpstreamConnector } from './federation/connector.ts';
import { createOidcConnector } from './federation/oidc-connector.ts';
import type { Logger } from './log.ts';
import { compileDetailsSchema } from './oauth/authorization-details.ts';
import { createKeyring, defaultSigningAlgs, type Keyring, type SigningAlg } from './passports/keys.ts';
import type { AuditRecord, Store } from './store/ports.ts';
import { createLimiters, createRateLimits, type KeyKind, type Limiters, type RateLimits } from './limits/limits.ts';
import { trustedProxies, type TrustedProxies } from './limits/source.ts';
import { instrumentConnector } from './metrics/instrument-connector.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';

export type Clock = () => number;

export type Deps = {
  readonly config: Config;
  readonly issuer: string;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly clientKeySets: ClientKeySets;
  /** Client ID Metadata Documents (MCP clients), fetched with the configured limits. */
  readonly clientDocuments: ClientDocuments;
  /** Per resource, the validator of each authorization_details type it accepts. */
  readonly detailsTypes: ReadonlyMap<string, ReadonlyMap<string, ValidateFunction>>;
  readonly connectors: ReadonlyMap<string, UpstreamConnector>;
  /** Per upstream id, its compiled claims mapping rule set. */
  readonly mappings: ReadonlyMap<string, CompiledRuleSet>;
  /** Server nonces for DPoP proofs (RFC 9449 §8), keyed by a secret shared through the store. */
  readonly dpopNonces: NonceIssuer;
  /** Issuers trusted for JWT bearer assertions and ID-JAGs: keys and rule set each. */
  readonly assertionIssuers: AssertionIssuers;
  readonly log: Logger;
  /** What every failed client secret check costs at least: the costliest hash configured (clients/secrets.ts). */
  readonly secretDecoy: string;
  /** The audit chain: every receipt is written through it. */
  readonly receipts: Receipts;
  /** The rate limit counters (in memory on SQLite, shared by all nodes on PostgreSQL); a reload keeps the running ones. */
  readonly limiters: Limiters;
  readonly rateLimits: RateLimits;
  /** http.trust_proxy: whose X-Forwarded-For names the source address. */
  readonly trustedProxies: TrustedProxies;
  /** Prometheus metrics (metrics/): one registry per server; a reload keeps the running one. */
  readonly metrics: Metrics;
  /** Epoch seconds. Tests pass a fixed clock. */
  readonly now: Clock;
};

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

/** A retired key stays published for the longest Passport lifetime plus clock skew. */
export const keyringOptions = (config: Config) => ({
  retentionSeconds: config.main.passports.max_ttl_seconds + config.main.client_assertions.clock_skew_seconds,
  reloadSeconds: config.main.keys.reload_seconds,
});

/** `keyring`: a reload keeps the running one (its cache and timeline stay valid across configs). */
/** `onReceipt`: told of every committed receipt (the SSF transmitter's feed wakes on it). */
export async function createDeps(options: { config: Config; issuer: string; store: Store; log: Logger; now?: Clock; keyring?: Keyring; limiters?: Limiters; metrics?: Metrics; onReceipt?: (record: AuditRecord) => void }): Promise<Deps> {
  const { config, store } = options;
  const now = options.now ?? systemClock;
  const keyring = options.keyring ?? createKeyring(store.keys, keyringOptions(config));
  // Also on reload: a resource that now asks for EdDSA gets its first key at once.
  await keyring.ensureKeys(now(), passportAlgsInUse(config));

  const detailsTypes = new Map<string, Map<string, ValidateFunction>>();
  for (const resource of config.resources.values()) {
    const validators = new Map<string, ValidateFunction>();
    for (const [type, definition] of Object.entries(resource.authorization_details_types)) {
      const compiled = compileDetailsSchema(definition.schema);
      if (!compiled.validate) throw new Error(`authorization_details type ${type} of ${resource.resource}: ${compiled.error}`);
      validators.set(type, compiled.validate);
    }
    detailsTypes.set(resource.resource, validators);
  }

  // A test's fixed clock dates receipts too; otherwise they keep millisecond precision.
  const receipts = createReceipts(store.audit, options.now ? () => now() * 1000 : Date.now, options.onReceipt);
  const limiters = options.limiters ?? (await createLimiters(config.main.rate_limits, store.createRateLimiter));
  const metrics = options.metrics ?? createMetrics({ startedAt: now() });
  // The one place a limit reached is reported, whichever limit it is: a log line and a receipt.
  const rateLimits = createRateLimits(limiters, (reached) => {
    const { limit, keyKind, key, retryAfterSeconds } = reached;
    metrics.rateLimitReached(limit, keyKind);
    options.log.warn({ limit, key_kind: keyKind, [keyLogField[keyKind]]: key, retry_after_seconds: retryAfterSeconds }, 'rate limit reached');
    // Not awaited: the 429 does not wait for the audit write, and a failed write only logs.
    receipts
      .record({ event: 'rate_limit.reached', ...(keyKind === 'client' ? { clientId: key } : {}), details: { limit, key_kind: keyKind, retry_after_seconds: retryAfterSeconds } })
      .catch((err: unknown) => options.log.error({ err, limit }, 'rate limit receipt not written'));
  });

  return {
    config,
    issuer: options.issuer,
    store,
    keyring,
    clientKeySets: createClientKeySets(config.main.http.upstream_timeout_ms),
    clientDocuments: createClientDocuments(config),
    detailsTypes,
    connectors: new Map([...config.upstreams.values()].map((u) => [u.id, instrumentConnector(createOidcConnector(u, config.main.http.upstream_timeout_ms), metrics)])),
    mappings: compileMappings(config),
    assertionIssuers: createAssertionIssuers(config, config.main.http.upstream_timeout_ms),
    dpopNonces: await createDpopNonces(store, config.main.dpop.nonce_window_seconds, now()),
    log: options.log,
    secretDecoy: secretDecoy([...config.clients.values()].map((c) => c.secret_hash)),
    receipts,
    limiters,
    rateLimits,
    trustedProxies: trustedProxies(config.main.http.trust_proxy),
    metrics,
    now,
  };
}

/** The log field a rate limit's key goes in (never a secret: an id, an address, a hash). */
const keyLogField: Record<KeyKind, string> = { client: 'client_id', address: 'address', browser: 'browser', session: 'sid', person: 'sub' };

/** ES256 and RS256 always; EdDSA once a resource asks for it. */
function passportAlgsInUse(config: Config): SigningAlg[] {
  const asked = [config.main.passports.signing_alg, ...[...config.resources.values()].map((r) => r.signing_alg)];
  return [...defaultSigningAlgs, ...(asked.includes('EdDSA') ? (['EdDSA'] as const) : [])];
}

/** Config loading already compiled every rule set once (that is where its errors are reported). */
function compileMappings(config: Config): Map<string, CompiledRuleSet> {
  const compiled = new Map<string, CompiledRuleSet>();
  for (const upstream of config.upstreams.values()) {
    const rules = config.mappings.get(ruleSetIdOf(upstream));
    const result = rules ? compileRuleSet(rules) : undefined;
    if (!result?.ok) throw new Error(`rule set of upstream ${upstream.id} does not compile`);
    compiled.set(upstream.id, result.ruleSet);
  }
  return compiled;
}
