// Bounded HTTP to an upstream IdP for token exchange (discovery, JWKS, introspection): a timeout,
// no redirects followed, a cap on the response size, JSON objects only. Failures become an
// UpstreamError: `unreachable` or `timeout` (network, 5xx), `invalid_response` (anything else).
// Must not put request bodies or headers (tokens, secrets) into errors: callers log the message.
import { UpstreamError } from './connector.ts';
import { sendTraced } from '../tracing/outgoing.ts';
import type { UpstreamCall } from './upstream-trace.ts';

export const maxUpstreamResponseBytes = 256 * 1024;

export type UpstreamRequest = {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** An outer signal (jose's own JWKS timeout), combined with ours. */
  signal?: AbortSignal | undefined;
  /** Names its span (upstream.<call>, with the upstream's id) when tracing is on. */
  trace?: { call: UpstreamCall; upstream: string } | undefined;
};

/** The raw response, its body read up to the cap (for jose's JWKS fetch). */
export async function fetchUpstream(url: string | URL, request: UpstreamRequest): Promise<{ status: number; contentType: string; body: Uint8Array }> {
  const where = new URL(url);
  const step = `${request.method ?? 'GET'} ${where.origin}${where.pathname}`.slice(0, 300);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  try {
    const method = request.method ?? 'GET';
    const call = { method, url: where, headers: { accept: 'application/json', ...request.headers }, attributes: request.trace ? { 'consulate.upstream': request.trace.upstream } : undefined };
    const response = await sendTraced(`upstream.${request.trace?.call ?? 'request'}`, call, (headers) => fetch(where, { method, headers, body: request.body, redirect: 'manual', signal }));
    const body = await readCapped(response, step);
    if (response.status >= 500) throw new UpstreamError('unreachable', `${step} answered ${response.status}`);
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') throw new UpstreamError('timeout', `${step} timed out`);
    throw new UpstreamError('unreachable', `${step} failed: ${error instanceof Error ? error.message.slice(0, 200) : 'unknown error'}`);
  }
}

/** A JSON object from a 200 response; anything else is an invalid response. */
export async function fetchUpstreamJson(url: string | URL, request: UpstreamRequest): Promise<Record<string, unknown>> {
  const response = await fetchUpstream(url, request);
  const where = new URL(url);
  if (response.status !== 200) throw new UpstreamError('invalid_response', `${where.origin}${where.pathname} answered ${response.status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    throw new UpstreamError('invalid_response', `${where.origin}${where.pathname} did not answer JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamError('invalid_response', `${where.origin}${where.pathname} did not answer a JSON object`);
  return parsed as Record<string, unknown>;
}

async function readCapped(response: Response, step: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxUpstreamResponseBytes) {
    await response.body?.cancel();
    throw new UpstreamError('invalid_response', `${step}: response larger than ${maxUpstreamResponseBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxUpstreamResponseBytes) {
      await reader.cancel();
      throw new UpstreamError('invalid_response', `${step}: response larger than ${maxUpstreamResponseBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
