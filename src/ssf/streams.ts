// Stream management (SSF 1.0 §8.1) for one authenticated receiver: create, read, update (PATCH),
// replace (PUT), delete, status, verification. A receiver sees and changes only its own streams;
// another receiver's stream is answered exactly like one that does not exist (404). Errors are
// OAuthErrors (400 invalid_request with what is wrong, 404 not_found, 409 when the receiver has its
// most streams); nothing is written before the whole request has been checked.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { SsfStreamRecord, SsfStreamStatus } from '../store/ports.ts';
import { streamEventTypes } from './event-types.ts';
import { outboxEvent } from './feed.ts';
import { deliveryFrom, eventsDelivered, mismatchedMember, statusInput, streamConfiguration, streamInput, verificationInput, type StreamInput } from './stream-config.ts';
import { opaqueSubject } from './subjects.ts';

export type StreamDeps = Pick<Deps, 'store' | 'issuer' | 'config' | 'now' | 'log'>;

export const ssfPaths = { configuration: '/ssf/streams', status: '/ssf/status', verification: '/ssf/verify', poll: '/ssf/poll' } as const;

const base = (deps: Pick<StreamDeps, 'issuer'>) => deps.issuer.replace(/\/$/, '');
export const pollUrlOf = (deps: Pick<StreamDeps, 'issuer'>, streamId: string) => `${base(deps)}${ssfPaths.poll}/${encodeURIComponent(streamId)}`;

const invalid = (description: string) => new OAuthError('invalid_request', description);
const noSuchStream = () => new OAuthError('not_found', 'no such stream');

/** A zod failure as one line: the first problem and where. */
function parse<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  throw invalid(`${where}${issue?.message ?? 'invalid body'}`.slice(0, 300));
}

/** The receiver's own stream, or 404 (also for someone else's). */
export async function ownStream(deps: StreamDeps, receiver: string, streamId: string | undefined): Promise<SsfStreamRecord> {
  if (streamId === undefined || streamId === '') throw invalid('stream_id is required');
  const stream = await deps.store.ssf.findStream(streamId);
  if (!stream || stream.receiver !== receiver) throw noSuchStream();
  return stream;
}

/** Every stream of this receiver (SSF 1.0 §8.1.1.2, read without stream_id). */
export const receiverStreams = (deps: StreamDeps, receiver: string): Promise<SsfStreamRecord[]> => deps.store.ssf.listStreams(receiver);

export const configurationOf = (deps: StreamDeps, stream: SsfStreamRecord) => streamConfiguration(stream, deps.issuer, pollUrlOf(deps, stream.id));

function checkSentBack(deps: StreamDeps, input: StreamInput, audience: string, current: SsfStreamRecord | undefined): void {
  const mismatch = mismatchedMember(input, deps.issuer, audience, current);
  if (mismatch) throw invalid(`${mismatch} does not match the transmitter's value`);
}

/** The receiver-supplied members of `input` applied to `stream` (all of them for a replace). */
function applyInput(deps: StreamDeps, stream: SsfStreamRecord, input: StreamInput, replace: boolean): SsfStreamRecord {
  const methods = deps.config.main.ssf.delivery_methods;
  let delivery = stream.delivery;
  if (replace || input.delivery !== undefined) {
    const chosen = deliveryFrom(input.delivery, { push: methods.includes('push'), poll: methods.includes('poll') }, pollUrlOf(deps, stream.id));
    if (!chosen.ok) throw invalid(chosen.error);
    delivery = chosen.delivery;
  }
  const eventsRequested = replace ? input.events_requested : (input.events_requested ?? stream.eventsRequested);
  const description = replace ? input.description : (input.description ?? stream.description);
  return { ...stream, delivery, eventsRequested, eventsDelivered: eventsDelivered(eventsRequested), description, updatedAt: deps.now() };
}

export async function createStream(deps: StreamDeps, receiver: string, body: unknown): Promise<SsfStreamRecord> {
  const input = parse(streamInput, body);
  if (input.stream_id !== undefined) throw invalid('stream_id is given by the transmitter');
  checkSentBack(deps, input, receiver, undefined);
  const { ssf } = deps.store;
  const max = deps.config.main.ssf.max_streams_per_receiver;
  if ((await ssf.listStreams(receiver)).length >= max) throw new OAuthError('invalid_request', `a receiver may have at most ${max} streams`, { status: 409, reason: 'too_many_streams' });
  const now = deps.now();
  const draft: SsfStreamRecord = {
    id: randomUUID().replace(/-/g, ''),
    receiver,
    audience: receiver,
    delivery: { method: 'poll' },
    eventsDelivered: [],
    status: 'enabled',
    fromSeq: (await deps.store.audit.head())?.seq ?? 0,
    createdAt: now,
    updatedAt: now,
  };
  const stream = applyInput(deps, draft, input, true);
  await ssf.createStream(stream);
  deps.log.info({ stream_id: stream.id, receiver, method: stream.delivery.method }, 'ssf: stream created');
  return stream;
}

/** PATCH (`replace` false) or PUT (`replace` true). */
export async function changeStream(deps: StreamDeps, receiver: string, body: unknown, replace: boolean): Promise<SsfStreamRecord> {
  const input = parse(streamInput, body);
  const stream = await ownStream(deps, receiver, input.stream_id);
  checkSentBack(deps, input, stream.audience, stream);
  const changed = applyInput(deps, stream, input, replace);
  if (!(await deps.store.ssf.saveStream(changed))) throw noSuchStream();
  return changed;
}

export async function deleteStream(deps: StreamDeps, receiver: string, streamId: string | undefined): Promise<void> {
  const stream = await ownStream(deps, receiver, streamId);
  if (!(await deps.store.ssf.deleteStream(stream.id))) throw noSuchStream();
  deps.log.info({ stream_id: stream.id, receiver }, 'ssf: stream deleted');
}

export const statusOf = (stream: SsfStreamRecord) => ({ stream_id: stream.id, status: stream.status, ...(stream.statusReason !== undefined ? { reason: stream.statusReason } : {}) });

export async function setStatus(deps: StreamDeps, receiver: string, body: unknown): Promise<SsfStreamRecord> {
  const input = parse(statusInput, body);
  const stream = await ownStream(deps, receiver, input.stream_id);
  const changed: SsfStreamRecord = { ...stream, status: input.status as SsfStreamStatus, statusReason: input.reason, updatedAt: deps.now() };
  if (!(await deps.store.ssf.saveStream(changed))) throw noSuchStream();
  return changed;
}

/** SSF 1.0 §8.1.4: a verification SET on the stream (sub_id: the stream), echoing `state`. */
export async function requestVerification(deps: StreamDeps, receiver: string, body: unknown): Promise<void> {
  const input = parse(verificationInput, body);
  const stream = await ownStream(deps, receiver, input.stream_id);
  if (stream.status === 'disabled') throw invalid('the stream is disabled');
  const draft = { type: streamEventTypes.verification, subId: opaqueSubject(stream.id), event: input.state !== undefined ? { state: input.state } : {} };
  await deps.store.ssf.enqueue([outboxEvent(deps, stream, draft, undefined, Date.now())]);
}
