// Starts the OpenTelemetry SDK when, and only when, the standard OTEL_* environment variables ask
// for traces (tracingPlan); otherwise nothing of the SDK is loaded and spans.ts stays a pass-through.
// The SDK (NodeTracerProvider, BatchSpanProcessor, OTLP/HTTP exporter: protobuf, or JSON when
// OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL=http/json) is imported here lazily;
// the exporter, sampler, batch and resource settings are the SDK's own readings of OTEL_*.
// One provider per process however many servers start in it; the last one stopped flushes it.
import { readFileSync } from 'node:fs';
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import type { Logger } from '../log.ts';
import { refreshTracingEnabled, tracingEnabled } from './spans.ts';

/** OTLP over HTTP with protobuf bodies (the OTLP default) or JSON bodies. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type TracingPlan = { on: false; why: string; warnings: string[] } | { on: true; protocol: OtlpProtocol; warnings: string[] };

const truthy = (value: string | undefined) => value?.trim().toLowerCase() === 'true';
const set = (value: string | undefined) => value !== undefined && value.trim() !== '';

/**
 * Traces are exported when OTEL_SDK_DISABLED is not true and either OTEL_TRACES_EXPORTER names
 * `otlp`, or it is unset and an OTLP endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT) is set. Unlike the SDK's own default (otlp to localhost), nothing
 * set means off.
 */
export function tracingPlan(env: NodeJS.ProcessEnv): TracingPlan {
  const warnings: string[] = [];
  if (truthy(env.OTEL_SDK_DISABLED)) return { on: false, why: 'OTEL_SDK_DISABLED is true', warnings };
  const exporters = set(env.OTEL_TRACES_EXPORTER) ? (env.OTEL_TRACES_EXPORTER as string).split(',').map((e) => e.trim().toLowerCase()).filter(Boolean) : undefined;
  const unsupported = exporters?.filter((e) => e !== 'otlp' && e !== 'none') ?? [];
  if (unsupported.length) warnings.push(`OTEL_TRACES_EXPORTER: ${unsupported.join(', ').slice(0, 100)} not supported (only otlp or none); ignored`);
  let on: boolean;
  if (exporters) on = exporters.includes('otlp') && !exporters.includes('none');
  else on = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!on) return { on: false, why: exporters ? 'OTEL_TRACES_EXPORTER does not name otlp' : 'no OTEL_TRACES_EXPORTER or OTLP endpoint set', warnings };
  const asked = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  const protocol: OtlpProtocol = asked === 'http/json' ? 'http/json' : 'http/protobuf';
  if (asked && asked !== protocol) {
    warnings.push(`OTLP protocol ${asked.slice(0, 40)} is not supported: traces are sent as OTLP/HTTP with protobuf bodies (http/protobuf), which collectors accept on their HTTP port (4318)`);
  }
  return { on: true, protocol, warnings };
}

export type Tracing = { shutdown(): Promise<void> };

type Sdk = { shutdown(): Promise<void> };
let running: { users: number; sdk: Promise<Sdk | undefined> } | undefined;
const nothing: Tracing = { shutdown: async () => undefined };

/** Applies the OTEL_* variables of `env` (the process's); `shutdown` flushes what is still buffered. */
export async function startTracing(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  const plan = tracingPlan(env);
  for (const warning of plan.warnings) log.warn(warning);
  // A provider the embedding process registered itself (or a test's) gets Consulate's spans as is.
  if (!plan.on || (!running && refreshTracingEnabled())) {
    refreshTracingEnabled();
    return nothing;
  }
  running ??= { users: 0, sdk: loadSdk(log, plan.protocol) };
  const mine = running;
  mine.users++;
  await mine.sdk;
  refreshTracingEnabled();
  if (tracingEnabled()) log.info('tracing: spans are exported over OTLP/HTTP');
  let stopped = false;
  return {
    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (--mine.users > 0) return;
      if (running === mine) running = undefined;
      try {
        await (await mine.sdk)?.shutdown();
      } catch (err) {
        log.warn({ err }, 'tracing: flushing the last spans failed');
      }
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
      refreshTracingEnabled();
    },
  };
}

async function loadSdk(log: Logger, protocol: OtlpProtocol): Promise<Sdk | undefined> {
  try {
    const [node, otlp, resources, core] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
    ]);
    // The SDK's own complaints (an export that failed, a bad OTEL_* value) go to our log, without their arguments.
    const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message.slice(0, 300));
    diag.setLogger({ error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    // service.name defaults to consulate; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it.
    const resource = resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.name': 'consulate', 'service.version': packageVersion() }))
      .merge(resources.detectResources({ detectors: [resources.envDetector] }));
    const provider = new node.NodeTracerProvider({ resource, spanProcessors: [new node.BatchSpanProcessor(new otlp.OTLPTraceExporter())] });
    // W3C trace context only: a caller's `baggage` header is not passed on to upstreams and webhooks.
    provider.register({ propagator: new core.W3CTraceContextPropagator() });
    return provider;
  } catch (err) {
    log.error({ err }, 'tracing: the OpenTelemetry SDK could not start; serving without traces');
    return undefined;
  }
}

/** package.json's version (two levels up from both src/tracing/ and dist/tracing/). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
