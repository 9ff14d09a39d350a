// Zod schema of `ssf:` in consulate.yaml: the OpenID Shared Signals (SSF 1.0) transmitter that turns
// receipts into Security Event Tokens for resource servers (docs/integrators/ssf.md).
import { z } from 'zod';
import { absoluteUri } from './values.ts';

export const ssfDeliveryMethods = ['push', 'poll'] as const;

export const ssfSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Serve the SSF transmitter: /.well-known/ssf-configuration, stream management, push and poll delivery of SETs. Read at start (a reload applies stream settings, not this switch).'),
    resource: absoluteUri
      .optional()
      .describe('The resource (RFC 8707) receivers\' Passports must be issued for, with scope `ssf`. Declare it in config/resources/ (with an `ssf` scope) and list it in each receiver client\'s resources. Default: <issuer>/ssf.'),
    delivery_methods: z
      .array(z.enum(ssfDeliveryMethods))
      .min(1)
      .default(['push', 'poll'])
      .describe('Delivery methods receivers may choose: push (RFC 8935, Consulate POSTs each SET to the receiver) and poll (RFC 8936, the receiver fetches and acknowledges them).'),
    push: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(100).default(10).describe('Attempts to push one SET before it is dropped (and a receipt says so).'),
        initial_backoff_ms: z.number().int().min(10).max(3_600_000).default(1000).describe('Wait after the first failed attempt; each further failure doubles it, up to max_backoff_ms.'),
        max_backoff_ms: z.number().int().min(10).max(86_400_000).default(300_000).describe('The longest wait between two attempts.'),
        timeout_ms: z.number().int().min(100).max(60_000).default(5000).describe('Timeout of one push request; a receiver that does not answer in time is retried later.'),
      })
      .prefault({})
      .describe('Push delivery (RFC 8935): retries with exponential backoff; a failing receiver never holds up another.'),
    poll: z
      .strictObject({
        max_wait_seconds: z.number().int().min(0).max(60).default(10).describe('How long a long poll (returnImmediately false) waits for an event before it answers with none.'),
        max_events: z.number().int().min(1).max(1000).default(100).describe('The most SETs one poll answer carries (a receiver may ask for fewer with maxEvents).'),
      })
      .prefault({})
      .describe('Poll delivery (RFC 8936).'),
    retention_seconds: z
      .number()
      .int()
      .min(60)
      .max(90 * 86400)
      .default(7 * 86400)
      .describe('A SET not delivered (push) or acknowledged (poll) within this time is dropped, as are events of a paused stream.'),
    feed_interval_ms: z
      .number()
      .int()
      .min(20)
      .max(60_000)
      .default(1000)
      .describe('How often each node looks for new receipts (from the CLI or another node) and due pushes; receipts this node writes are turned into SETs at once.'),
    max_streams_per_receiver: z.number().int().min(1).max(100).default(5).describe('Streams one receiver (client) may have; one more is refused with 409.'),
  })
  .prefault({})
  .describe('OpenID Shared Signals Framework 1.0 transmitter: CAEP and Consulate events (sessions, delegations, agents) as SETs for receivers that authenticate with a Passport carrying scope `ssf`: docs/integrators/ssf.md.');

export type SsfConfig = z.output<typeof ssfSchema>;

/** The resource receivers' Passports are for: configured, else `<issuer>/ssf`. */
export const ssfResourceOf = (ssf: Pick<SsfConfig, 'resource'>, issuer: string): string => ssf.resource ?? `${issuer.replace(/\/$/, '')}/ssf`;
