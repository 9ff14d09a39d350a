// When Consulate exports traces: only the standard OTEL_* variables decide, and nothing set is off.
import { describe, expect, it } from 'vitest';
import { tracingPlan } from '../../../src/tracing/start.ts';

const endpoint = 'http://127.0.0.1:4318';

describe('tracingPlan', () => {
  it('off with no OTEL_* variable (unlike the SDK default of otlp to localhost)', () => {
    expect(tracingPlan({})).toMatchObject({ on: false, warnings: [] });
    expect(tracingPlan({ OTEL_SERVICE_NAME: 'consulate', OTEL_RESOURCE_ATTRIBUTES: 'a=b' }).on).toBe(false);
  });

  it('on with an OTLP endpoint (general or for traces) or OTEL_TRACES_EXPORTER=otlp', () => {
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toEqual({ on: true, protocol: 'http/protobuf', warnings: [] });
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` })).toEqual({ on: true, protocol: 'http/protobuf', warnings: [] });
    expect(tracingPlan({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ on: true, protocol: 'http/protobuf', warnings: [] });
    expect(tracingPlan({ OTEL_TRACES_EXPORTER: ' OTLP ', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).on).toBe(true);
  });

  it('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none win over an endpoint', () => {
    expect(tracingPlan({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).on).toBe(false);
    expect(tracingPlan({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }).on).toBe(false);
    expect(tracingPlan({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).on).toBe(false);
    expect(tracingPlan({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).on).toBe(true);
  });

  it('an exporter or protocol it cannot honour is named in a warning', () => {
    const consoleOnly = tracingPlan({ OTEL_TRACES_EXPORTER: 'console', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(consoleOnly.on).toBe(false);
    expect(consoleOnly.warnings).toEqual(['OTEL_TRACES_EXPORTER: console not supported (only otlp or none); ignored']);
    const grpc = tracingPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.on).toBe(true);
    expect(grpc.warnings[0]).toMatch(/^OTLP protocol grpc is not supported: traces are sent as OTLP\/HTTP with protobuf bodies/);
    expect(grpc).toMatchObject({ protocol: 'http/protobuf' });
    const json = tracingPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(json).toMatchObject({ protocol: 'http/json', warnings: [] });
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toMatchObject({ protocol: 'http/protobuf', warnings: [] });
  });
});
