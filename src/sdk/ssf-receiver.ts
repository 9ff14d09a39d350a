// The guard as an SSF receiver (OpenID Shared Signals Framework 1.0): it reads the transmitter's
// metadata, finds its stream (by description, delivery method and push URL) or creates one asking
// for the events it acts on, and then takes SETs either by polling (RFC 8936: long polls that
// acknowledge what was applied and report what was not) or by push (RFC 8935: the app mounts a
// handler that calls `receive`). Every SET is verified (set-verify.ts) before it is applied; a
// duplicate is acknowledged and not applied twice. It must not put a token, a SET or the receiver's
// Authorization header into an error, and errors in the background go to `onError`, never thrown.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { verifySet, type SetCheck } from './set-verify.ts';
import { guardEventTypes, type SignalState } from './signals.ts';
import { createTtlCache } from './ttl-cache.ts';
import type { SsfReceiverOptions } from './types.ts';

export type ReceiveResult = { ok: true; duplicate: boolean } | { ok: false; err: string; description: string };

export type PushAnswer = { status: 202 | 400 | 401 | 503; body?: { err: string; description: string } };

export type SignalReceiver = {
  /** Finds or creates the stream and, for poll delivery, starts polling; resolves once the stream is there. */
  start(): Promise<void>;
  /** Stops polling (acknowledging what was applied) and waits for the poll in flight. */
  stop(): Promise<void>;
  /** One SET (push delivery, or any other way it arrived): verified, then applied. */
  receive(set: string): Promise<ReceiveResult>;
  /**
   * A push delivery (RFC 8935 §2), framework-free: the request's Content-Type, Authorization and body
   * in, the status and RFC 8935 error object out (202: applied or a duplicate; 400: this SET is
   * refused for good; 401: not the stream's Authorization; 503: cannot check it now, push again).
   */
  receivePush(request: { contentType?: string | undefined; authorization?: string | undefined; body: string }): Promise<PushAnswer>;
  /** One short poll (returnImmediately); how many SETs it applied. For apps that poll on their own schedule. */
  pollOnce(): Promise<number>;
  /** The stream, once started. */
  readonly streamId: string | undefined;
};

const pushUrn = 'urn:ietf:rfc:8935';
const pollUrn = 'urn:ietf:rfc:8936';
const timeoutMs = 10_000;
/** A long poll may wait this long at the transmitter before it answers with nothing. */
const longPollMs = 65_000;

const metadataSchema = z.looseObject({ issuer: z.string(), jwks_uri: z.url(), configuration_endpoint: z.url() });
const streamSchema = z.looseObject({
  stream_id: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.string(),
  description: z.string().optional(),
  delivery: z.looseObject({ method: z.string(), endpoint_url: z.string().optional() }),
});
type Stream = z.output<typeof streamSchema>;
const pollAnswerSchema = z.looseObject({ sets: z.record(z.string(), z.string()), moreAvailable: z.boolean().optional() });

const digest = (value: string) => createHash('sha256').update(value).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** SSF 1.0 §7.2: the well-known segment goes between host and path. */
export function ssfMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  return `${url.origin}/.well-known/ssf-configuration${url.pathname.replace(/\/$/, '')}`;
}

export function createSignalReceiver(options: SsfReceiverOptions & { transmitter: string; resource: string }, state: SignalState, forget: (match: (claims: Record<string, unknown>) => boolean) => void, now: () => number): SignalReceiver {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const delivery = options.delivery ?? { method: 'poll' as const };
  const description = options.description ?? `Consulate guard of ${options.resource}`;
  const seen = createTtlCache<true>(100_000);
  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));
  let stream: Stream | undefined;
  let keys: JWTVerifyGetKey | undefined;
  let issuer: string | undefined;
  let pollUrl: string | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let abort: AbortController | undefined;
  /** Applied and not yet acknowledged; reported errors not yet sent (poll). */
  let ack: string[] = [];
  let setErrs: Record<string, { err: string; description: string }> = {};

  async function call(url: string, init: { method: string; body?: unknown; signal?: AbortSignal }): Promise<Response> {
    const token = await options.accessToken();
    return fetchImpl(url, {
      method: init.method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      redirect: 'manual',
      signal: init.signal ?? AbortSignal.timeout(timeoutMs),
    });
  }

  async function json(response: Response, what: string): Promise<unknown> {
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`ssf: ${what}: HTTP ${response.status}`);
    }
    return response.json();
  }

  const matches = (s: Stream) =>
    options.streamId !== undefined
      ? s.stream_id === options.streamId
      : s.description === description && s.delivery.method === (delivery.method === 'push' ? pushUrn : pollUrn) && (delivery.method !== 'push' || s.delivery.endpoint_url === delivery.endpointUrl);

  async function setUp(): Promise<void> {
    // 1. The transmitter's metadata, which must name the issuer it was asked for (SSF 1.0 §7.2.3).
    const response = await fetchImpl(ssfMetadataUrl(options.transmitter), { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const metadata = metadataSchema.parse(await json(response, 'transmitter metadata'));
    if (metadata.issuer !== options.transmitter) throw new Error('ssf: the transmitter metadata names another issuer');
    issuer = metadata.issuer;
    keys = createRemoteJWKSet(new URL(metadata.jwks_uri), { [customFetch]: fetchImpl });
    // 2. Our stream, if it exists; else a new one for the events the guard acts on.
    const existing = z.array(streamSchema).parse(await json(await call(metadata.configuration_endpoint, { method: 'GET' }), 'list streams')).find(matches);
    const created = existing ?? (options.streamId !== undefined ? undefined : streamSchema.parse(await json(await call(metadata.configuration_endpoint, { method: 'POST', body: creation() }), 'create stream')));
    if (!created) throw new Error('ssf: the configured stream does not exist');
    if (created.iss !== issuer) throw new Error('ssf: the stream names another issuer');
    stream = created;
    pollUrl = created.delivery.method === pollUrn ? created.delivery.endpoint_url : undefined;
    if (delivery.method === 'poll' && pollUrl === undefined) throw new Error('ssf: the stream has no poll endpoint');
  }

  const creation = () => ({
    events_requested: [...guardEventTypes],
    description,
    delivery: delivery.method === 'push' ? { method: pushUrn, endpoint_url: delivery.endpointUrl, ...(delivery.authorizationHeader !== undefined ? { authorization_header: delivery.authorizationHeader } : {}) } : { method: pollUrn },
  });

  async function receive(set: string): Promise<ReceiveResult> {
    if (!stream || !keys || !issuer) return { ok: false, err: 'invalid_request', description: 'the receiver is not started' };
    const audience = typeof stream.aud === 'string' ? stream.aud : (stream.aud[0] ?? '');
    const check: SetCheck = await verifySet(set, keys, { issuer, audience });
    if (!check.ok) return check;
    const at = now();
    const { claims } = check;
    if (seen.get(claims.jti, at)) return { ok: true, duplicate: true };
    for (const [type, event] of Object.entries(claims.events)) {
      const stale = state.apply(type, event, claims.sub_id, at);
      if (stale) forget(stale);
    }
    seen.put(claims.jti, true, at + 86_400, at);
    options.onSignal?.({ jti: claims.jti, types: Object.keys(claims.events), txn: claims.txn, events: claims.events, subId: claims.sub_id });
    return { ok: true, duplicate: false };
  }

  /** One poll: sends what is owed (acks, errors), applies what comes. */
  async function poll(returnImmediately: boolean, signal?: AbortSignal, maxEvents = 100): Promise<{ applied: number; more: boolean }> {
    if (!pollUrl) throw new Error('ssf: not a poll stream (start it first)');
    const sentAck = ack;
    const sentErrs = setErrs;
    const body = { ...(sentAck.length ? { ack: sentAck } : {}), ...(Object.keys(sentErrs).length ? { setErrs: sentErrs } : {}), maxEvents, returnImmediately };
    const answer = pollAnswerSchema.parse(await json(await call(pollUrl, { method: 'POST', body, signal: signal ?? AbortSignal.timeout(timeoutMs) }), 'poll'));
    // Delivered: forget what was sent (a failed request keeps it for the next poll).
    ack = ack.filter((id) => !sentAck.includes(id));
    setErrs = Object.fromEntries(Object.entries(setErrs).filter(([id]) => !(id in sentErrs)));
    let applied = 0;
    for (const [jti, set] of Object.entries(answer.sets)) {
      const result = await receive(set);
      if (result.ok) {
        ack.push(jti);
        if (!result.duplicate) applied++;
      } else setErrs[jti] = { err: result.err, description: result.description };
    }
    return { applied, more: answer.moreAvailable === true };
  }

  async function pollLoop(): Promise<void> {
    while (running) {
      abort = new AbortController();
      const timer = setTimeout(() => abort?.abort(), longPollMs);
      try {
        // The next poll carries the acks of this one's SETs; the transmitter takes them before it waits.
        await poll(false, abort.signal);
      } catch (error) {
        if (!running) break;
        report(error);
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 2000));
      } finally {
        clearTimeout(timer);
      }
    }
  }

  return {
    async start() {
      await setUp();
      if (delivery.method === 'poll' && !running) {
        running = true;
        loop = pollLoop();
      }
    },
    async stop() {
      running = false;
      abort?.abort();
      await loop;
      loop = undefined;
      // What was applied is acknowledged, so it is not sent again.
      if (pollUrl && (ack.length || Object.keys(setErrs).length)) await poll(true, undefined, 0).catch(report);
    },
    receive,
    async receivePush(request) {
      // The header the stream was created with, compared in constant time.
      const expected = delivery.method === 'push' ? delivery.authorizationHeader : undefined;
      if (expected !== undefined && !sameSecret(request.authorization ?? '', expected)) return { status: 401, body: { err: 'authentication_failed', description: 'the Authorization header is not the stream\'s' } };
      if (!/^application\/secevent\+jwt\s*(;|$)/i.test(request.contentType ?? '')) return { status: 400, body: { err: 'invalid_request', description: 'the body must be application/secevent+jwt' } };
      try {
        const result = await receive(request.body.trim());
        return result.ok ? { status: 202 } : { status: 400, body: { err: result.err, description: result.description } };
      } catch (error) {
        report(error);
        return { status: 503, body: { err: 'temporarily_unavailable', description: 'the SET cannot be checked now' } };
      }
    },
    async pollOnce() {
      return (await poll(true)).applied;
    },
    get streamId() {
      return stream?.stream_id;
    },
  };
}
