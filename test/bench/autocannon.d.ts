// Minimal types for the part of autocannon's programmatic API the benchmark uses
// (autocannon ships no types and @types/autocannon is not installed).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      pipelining?: number;
      /** Seconds to wait for a response. */
      timeout?: number;
      title?: string;
      /** A falsy return counts the response in `mismatches`. */
      verifyBody?: (body: string) => boolean;
      /**
       * Sent in turn by each connection. A `setupRequest` is called each time its request is built,
       * which is just before it is sent (a connection's first one: when the connection is created).
       */
      requests?: RequestSpec[];
    }
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }
    interface RequestSpec extends RequestParams {
      /** Returns the request to send; a falsy return is not handled well by autocannon 9 (it throws or restarts). */
      setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams;
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
    }
    interface Stats {
      average: number;
      stddev: number;
      min: number;
      max: number;
      total?: number;
      p50: number;
      p99: number;
    }
    interface Result {
      title?: string;
      url: string;
      /** Seconds. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Stats;
      requests: Stats & { total: number; sent: number };
      throughput: Stats;
    }
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
      /** Emitted per response; `responseTime` is in (fractional) milliseconds. */
      on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
