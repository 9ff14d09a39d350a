// The transmitter's background work on each node: feed receipts into the outbox, push what is due,
// drop what is older than the retention. A round runs every ssf.feed_interval_ms, and at once when
// this node commits a receipt (nudge); rounds never overlap, and one that fails is logged and
// retried next time. Several nodes run it side by side: the store makes feeding exactly-once and
// pushing claim-based (feed.ts, push.ts). Long polls wait on it for new SETs.
import type { Deps } from '../deps.ts';
import type { Logger } from '../log.ts';
import { feedOnce } from './feed.ts';
import { pushDue } from './push.ts';

export type Transmitter = {
  /** Something may have happened (a receipt was committed, a SET was queued): run a round soon. */
  nudge(): void;
  /** Resolves true after this node's next round (SETs may be waiting) or after `ms`; false once closed or aborted. */
  wait(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Stops the rounds and waits for the one running. */
  close(): Promise<void>;
};

const purgeEveryMs = 60_000;
/** Feed steps per round at most, so a long backlog does not starve pushes. */
const maxFeedSteps = 50;

export function startTransmitter(current: () => Deps, log: Logger): Transmitter {
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastPurgeMs = 0;
  const waiters = new Set<(value: boolean) => void>();
  const wake = (value: boolean) => {
    for (const resolve of waiters) resolve(value);
    waiters.clear();
  };

  async function round(): Promise<void> {
    const deps = current();
    for (let step = 0; step < maxFeedSteps; step++) if ((await feedOnce(deps)) === 0) break;
    // Long polls look again: this round (or whoever nudged it) may have queued SETs.
    wake(true);
    await pushDue(deps);
    if (Date.now() - lastPurgeMs >= purgeEveryMs) {
      lastPurgeMs = Date.now();
      const dropped = await deps.store.ssf.purgeBefore(Date.now() - deps.config.main.ssf.retention_seconds * 1000);
      if (dropped > 0) log.warn({ dropped }, 'ssf: SETs older than the retention dropped undelivered');
    }
  }

  function run(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = round()
      .catch((err: unknown) => log.warn({ err }, 'ssf: transmitter round failed'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        } else schedule();
      });
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(run, current().config.main.ssf.feed_interval_ms);
    timer.unref();
  }

  run();
  return {
    nudge() {
      run();
    },
    wait(ms, signal) {
      if (closed || signal?.aborted) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timeout);
          signal?.removeEventListener('abort', aborted);
          waiters.delete(done);
          resolve(value);
        };
        const aborted = () => done(false);
        const timeout = setTimeout(() => done(true), ms);
        signal?.addEventListener('abort', aborted, { once: true });
        waiters.add(done);
      });
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      wake(false);
      await running;
    },
  };
}
