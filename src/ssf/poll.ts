// Poll delivery (RFC 8936 §2): the receiver acknowledges what it processed (`ack`, removed from the
// outbox), reports SETs it could not process (`setErrs`, removed and recorded as a receipt), and gets
// the next ones, oldest first: { sets: { jti: SET }, moreAvailable }. Without returnImmediately the
// request is a long poll: it waits (at most poll.max_wait_seconds) for a SET to arrive. A paused
// stream answers with no SETs (they are held); a SET stays in the outbox until it is acknowledged.
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { SsfStreamRecord } from '../store/ports.ts';
import { signSet } from './set.ts';

export type PollDeps = Pick<Deps, 'store' | 'config' | 'keyring' | 'now' | 'log' | 'receipts'>;

const jti = z.string().min(1).max(128);

export const pollInput = z.strictObject({
  ack: z.array(jti).max(1000).optional(),
  setErrs: z.record(jti, z.strictObject({ err: z.string().min(1).max(64), description: z.string().max(1000).optional() })).optional(),
  maxEvents: z.number().int().min(0).max(100_000).optional(),
  returnImmediately: z.boolean().optional(),
});

export type PollInput = z.output<typeof pollInput>;

export type PollAnswer = { sets: Record<string, string>; moreAvailable: boolean };

/** `wait(ms)` resolves when a SET may have arrived, or after `ms`, or false when the wait must end (shutdown, client gone). */
export async function pollStream(deps: PollDeps, stream: SsfStreamRecord, input: PollInput, wait: (ms: number) => Promise<boolean>): Promise<PollAnswer> {
  const { ssf } = deps.store;
  // 1. What the receiver is done with.
  if (input.ack?.length) await ssf.remove(stream.id, input.ack);
  const errors = Object.entries(input.setErrs ?? {});
  if (errors.length) {
    const removed = await ssf.remove(stream.id, errors.map(([id]) => id));
    // Only the error codes: a receiver's description is free text and stays out of receipts and logs.
    const codes = Object.fromEntries(errors.map(([id, error]) => [id, /^[a-z_]{1,64}$/.test(error.err) ? error.err : 'other']));
    deps.log.warn({ stream_id: stream.id, receiver: stream.receiver, errors: codes }, 'ssf: receiver reported SET errors');
    if (removed > 0) await deps.receipts.record({ event: 'ssf.delivery_failed', clientId: stream.receiver, details: { stream_id: stream.id, method: 'poll', outcome: 'receiver_error', errors: codes } });
  }
  // 2. How many it wants now (0: it only acknowledged).
  const max = Math.min(input.maxEvents ?? deps.config.main.ssf.poll.max_events, deps.config.main.ssf.poll.max_events);
  if (max === 0 || stream.status !== 'enabled') return { sets: {}, moreAvailable: false };
  // 3. The oldest waiting SETs; none yet: wait for one unless asked not to.
  const deadline = Date.now() + deps.config.main.ssf.poll.max_wait_seconds * 1000;
  let pending = await ssf.pending(stream.id, max + 1);
  while (pending.length === 0 && input.returnImmediately !== true && Date.now() < deadline) {
    if (!(await wait(Math.min(500, deadline - Date.now())))) break;
    pending = await ssf.pending(stream.id, max + 1);
  }
  // 4. Signed now, with the key in force.
  const sets: Record<string, string> = {};
  for (const event of pending.slice(0, max)) sets[event.jti] = await signSet(deps, event.claims);
  return { sets, moreAvailable: pending.length > max };
}
