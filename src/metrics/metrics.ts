// Prometheus metrics (prom-client): one Registry per server, never prom-client's global one (tests
// run many servers in one process), built once at start and handed on across config reloads, as the
// rate limiters are. Services record through the small functions of `Metrics`; label values must come
// from closed sets (labels.ts). Gauges that reflect the database are read at scrape (scrape.ts).
// Must not import hono or a database driver; must not be given a token, secret or subject.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApprovalKind, StoreObserver } from '../store/ports.ts';
import { grantLabel, methodLabel, statusClass } from './labels.ts';

export type ReloadOutcome = 'applied' | 'refused' | 'failed';
export type IntrospectionResult = 'active' | 'inactive' | 'error';
export type UpstreamCall = 'authorize' | 'token';

/** Seconds: from a fast token request (~1 ms) to a slow upstream (the default timeout is 5 s). */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const batchBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 512];

/** `startedAt` (epoch seconds): approvals that expire after it are this process's to count. */
export function createMetrics(options: { startedAt: number }) {
  const registry = new Registry();
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets = latencyBuckets) => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });

  const m = {
    http: histogram('consulate_http_request_duration_seconds', 'HTTP requests by route pattern, method and status class.', ['route', 'method', 'status']),
    rateLimited: counter('consulate_http_rate_limited_total', 'Requests answered 429 (any rate limit or cap), by route pattern.', ['route']),
    tokens: counter('consulate_token_requests_total', 'Token endpoint requests by grant type, outcome and OAuth error code.', ['grant_type', 'outcome', 'error']),
    passports: counter('consulate_passports_issued_total', 'Passports issued (receipt written) by grant type and resource.', ['grant_type', 'resource']),
    introspections: counter('consulate_introspections_total', 'Introspection requests by result.', ['result']),
    upstreamLogins: counter('consulate_upstream_logins_total', 'Sign-ins completed at an upstream IdP, by upstream and outcome.', ['upstream', 'outcome']),
    upstreamCalls: histogram('consulate_upstream_request_duration_seconds', 'Calls to an upstream IdP during sign-in: authorize (discovery when not cached) and token (code exchange, ID token keys, userinfo).', ['upstream', 'call']),
    approvalsRequested: counter('consulate_approvals_requested_total', 'Approval requests opened (CIBA, device, paused exchange), by kind.', ['kind']),
    approvalsDecided: counter('consulate_approvals_decided_total', 'Approval requests settled by people, by kind and decision.', ['kind', 'decision']),
    approvalsExpired: counter('consulate_approvals_expired_total', 'Approval requests that expired undecided, by kind (counted at scrape from the database).', ['kind']),
    approvalsPending: gauge('consulate_approvals_pending', 'Approval requests waiting for a decision now, by kind (read at scrape).', ['kind']),
    limitsReached: counter('consulate_rate_limit_reached_total', 'A rate limit reached by one key (once per key and window), by limit and key kind.', ['limit', 'key_kind']),
    reloads: counter('consulate_config_reloads_total', 'Config reloads by outcome: applied, refused (invalid config) or failed.', ['outcome']),
    reloadAttempt: gauge('consulate_config_last_reload_attempt_timestamp_seconds', 'When the last reload was attempted (epoch seconds); 0 before the first.'),
    reloadSuccess: gauge('consulate_config_last_reload_success_timestamp_seconds', 'When the config in force was loaded (epoch seconds): the start or the last applied reload.'),
    stale: gauge('consulate_config_stale', '1 while the last reload was refused or failed (the running config is older than the files), else 0.'),
    dbCalls: histogram('consulate_db_call_duration_seconds', 'Store calls by port and method, waiting for a group commit included.', ['call']),
    commitBatch: histogram('consulate_db_commit_batch_size', 'Writes per group commit (one transaction).', [], batchBuckets),
    commitSeconds: histogram('consulate_db_commit_duration_seconds', 'Group commit transactions, their time.', []),
    poolConnections: gauge('consulate_db_pool_connections', 'PostgreSQL pool: connections open, and of them idle (read at scrape).', ['state']),
    poolWaiting: gauge('consulate_db_pool_waiting_queries', 'PostgreSQL pool: queries waiting for a connection (read at scrape).'),
  };
  m.reloadAttempt.set(0);
  m.stale.set(0);

  const storeObserver: StoreObserver = {
    commit(batchSize, seconds) {
      m.commitBatch.observe(batchSize);
      m.commitSeconds.observe(seconds);
    },
  };

  return {
    registry,
    /** Instruments read at scrape (scrape.ts). */
    instruments: m,
    /** Given to the store when it opens. */
    storeObserver,
    /** Approvals expired up to this time (epoch seconds) are counted (scrape.ts). */
    expiredCountedUpTo: options.startedAt,
    /** One request, timed by the app's first middleware; `route` is the matched pattern, never the raw path. */
    httpRequest(route: string, method: string, status: number, seconds: number): void {
      m.http.observe({ route, method: methodLabel(method), status: statusClass(status) }, seconds);
      if (status === 429) m.rateLimited.inc({ route });
    },
    /** `error` undefined: a token was issued. */
    tokenRequest(grantType: string | undefined, error: string | undefined): void {
      m.tokens.inc({ grant_type: grantLabel(grantType), outcome: error === undefined ? 'success' : 'error', error: error ?? 'none' });
    },
    /** `resource`: already bounded by the caller (a resource of the config, else `other`). */
    passportIssued(grantType: string, resource: string): void {
      m.passports.inc({ grant_type: grantLabel(grantType), resource });
    },
    introspection(result: IntrospectionResult): void {
      m.introspections.inc({ result });
    },
    /** `upstream`: an upstream id of the config, else `other`; `outcome`: success or the UpstreamError reason. */
    upstreamLogin(upstream: string, outcome: string): void {
      m.upstreamLogins.inc({ upstream, outcome });
    },
    upstreamCall(upstream: string, call: UpstreamCall, seconds: number): void {
      m.upstreamCalls.observe({ upstream, call }, seconds);
    },
    approvalRequested(kind: ApprovalKind): void {
      m.approvalsRequested.inc({ kind });
    },
    approvalDecided(kind: ApprovalKind, decision: 'approved' | 'denied'): void {
      m.approvalsDecided.inc({ kind, decision });
    },
    rateLimitReached(limit: string, keyKind: string): void {
      m.limitsReached.inc({ limit, key_kind: keyKind });
    },
    configReload(outcome: ReloadOutcome): void {
      m.reloads.inc({ outcome });
    },
    /** The observer of one store call (bound once per method: no label work per call). */
    dbCall(call: string): (seconds: number) => void {
      const child = m.dbCalls.labels({ call });
      return (seconds) => child.observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
