// The stream configuration object (SSF 1.0 §8.1.1) both ways: what a receiver may send (strictly
// checked: unknown members, wrong types, a push URL that is neither https nor loopback http are
// 400), and what the transmitter answers. Transmitter-supplied members may be sent back, but only
// with the values the transmitter would give them. Pure: no I/O.
import { z } from 'zod';
import { httpsOrLoopbackUrl } from '../config/values.ts';
import type { SsfDelivery, SsfStreamRecord } from '../store/ports.ts';
import { supportedEventTypes } from './event-types.ts';

export const deliveryMethods = { push: 'urn:ietf:rfc:8935', poll: 'urn:ietf:rfc:8936' } as const;

const uri = z.string().min(1).max(512);
const headerValue = z.string().min(1).max(4096).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII');

const deliveryInput = z.strictObject({
  method: z.enum([deliveryMethods.push, deliveryMethods.poll]),
  endpoint_url: z.string().max(2048).optional(),
  authorization_header: headerValue.optional(),
});

/** Every member a receiver may send (create, replace, update); which are required is checked per operation. */
export const streamInput = z.strictObject({
  stream_id: z.string().min(1).max(128).optional(),
  events_requested: z.array(uri).min(1, 'must not be empty').max(64).optional(),
  delivery: deliveryInput.optional(),
  description: z.string().max(1000).optional(),
  // Transmitter-supplied: accepted only with the values the transmitter gives them.
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  events_supported: z.array(z.string()).optional(),
  events_delivered: z.array(z.string()).optional(),
});

export type StreamInput = z.output<typeof streamInput>;

export const statusInput = z.strictObject({
  stream_id: z.string().min(1).max(128),
  status: z.enum(['enabled', 'paused', 'disabled']),
  reason: z.string().max(500).optional(),
});

export const verificationInput = z.strictObject({
  stream_id: z.string().min(1).max(128),
  state: z.string().max(1000).optional(),
});

/** What the receiver may have: the methods the operator enabled. */
export type DeliveryOptions = { push: boolean; poll: boolean };

/** The delivery a request asks for, or why it cannot have it. Absent: poll (SSF 1.0 §8.1.1.1). */
export function deliveryFrom(input: StreamInput['delivery'], options: DeliveryOptions, pollUrl: string | undefined): { ok: true; delivery: SsfDelivery } | { ok: false; error: string } {
  if (input === undefined || input.method === deliveryMethods.poll) {
    if (!options.poll) return { ok: false, error: 'poll delivery (urn:ietf:rfc:8936) is not offered' };
    if (input?.authorization_header !== undefined) return { ok: false, error: 'authorization_header is for push delivery' };
    // The poll URL is the transmitter's: sent back unchanged, or not at all.
    if (input?.endpoint_url !== undefined && input.endpoint_url !== pollUrl) return { ok: false, error: 'endpoint_url of a poll stream is given by the transmitter' };
    return { ok: true, delivery: { method: 'poll' } };
  }
  if (!options.push) return { ok: false, error: 'push delivery (urn:ietf:rfc:8935) is not offered' };
  if (input.endpoint_url === undefined) return { ok: false, error: 'push delivery needs an endpoint_url' };
  if (!httpsOrLoopbackUrl.safeParse(input.endpoint_url).success) return { ok: false, error: 'endpoint_url must be an https URL (http only on localhost, 127.0.0.1 or [::1]) without fragment or userinfo' };
  return { ok: true, delivery: { method: 'push', endpointUrl: input.endpoint_url, ...(input.authorization_header !== undefined ? { authorizationHeader: input.authorization_header } : {}) } };
}

/** events_delivered: what was asked and is supported (everything supported when nothing was asked), in our order. */
export const eventsDelivered = (requested: readonly string[] | undefined): string[] => (requested === undefined ? [...supportedEventTypes] : supportedEventTypes.filter((t) => requested.includes(t)));

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Transmitter-supplied members sent back must match (SSF 1.0 §8.1.1.3): `current` is the stream
 * before the change (undefined on create). Returns the first that does not, or undefined.
 */
export function mismatchedMember(input: StreamInput, issuer: string, audience: string, current: SsfStreamRecord | undefined): string | undefined {
  if (input.iss !== undefined && input.iss !== issuer) return 'iss';
  if (input.aud !== undefined && !sameSet(typeof input.aud === 'string' ? [input.aud] : input.aud, [audience])) return 'aud';
  if (input.events_supported !== undefined && !sameSet(input.events_supported, supportedEventTypes)) return 'events_supported';
  const delivered = current?.eventsDelivered ?? eventsDelivered(input.events_requested);
  if (input.events_delivered !== undefined && !sameSet(input.events_delivered, delivered)) return 'events_delivered';
  return undefined;
}

/** The stream as the receiver sees it (SSF 1.0 §8.1.1); `pollUrl` is its poll endpoint. */
export function streamConfiguration(stream: SsfStreamRecord, issuer: string, pollUrl: string): Record<string, unknown> {
  const delivery =
    stream.delivery.method === 'push'
      ? { method: deliveryMethods.push, endpoint_url: stream.delivery.endpointUrl, ...(stream.delivery.authorizationHeader !== undefined ? { authorization_header: stream.delivery.authorizationHeader } : {}) }
      : { method: deliveryMethods.poll, endpoint_url: pollUrl };
  return {
    stream_id: stream.id,
    iss: issuer,
    aud: stream.audience,
    delivery,
    events_supported: [...supportedEventTypes],
    ...(stream.eventsRequested !== undefined ? { events_requested: stream.eventsRequested } : {}),
    events_delivered: stream.eventsDelivered,
    ...(stream.description !== undefined ? { description: stream.description } : {}),
  };
}
