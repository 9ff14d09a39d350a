// Group commit: appends made in the same event-loop turn are written by one transaction, so a busy
// server pays one commit per turn instead of one per request. Each caller's promise settles only
// after the transaction holding its item commits; if it fails, every item in it fails (nothing in
// it was written) and the next batch starts afresh. Batches run one at a time, in arrival order.
// Traced callers get one `store.commit` span per batch (child of the first, linked to the others).
import type { SpanContext } from '@opentelemetry/api';
import { failSpan, recordingCaller, startBatchSpan } from './traced.ts';

export type GroupCommit<I, O> = (item: I) => Promise<O>;

type Waiting<I, O> = { item: I; resolve: (value: O) => void; reject: (error: unknown) => void; caller: SpanContext | undefined };

/**
 * `write` stores all items in one transaction and returns one result per item, in order.
 * `observe`: told each batch's size and how long its transaction took (metrics), failed ones too.
 */
export function createGroupCommit<I, O>(write: (items: I[]) => O[] | Promise<O[]>, maxBatch = 512, observe?: (batchSize: number, seconds: number) => void): GroupCommit<I, O> {
  let queue: Waiting<I, O>[] = [];
  let scheduled = false;
  let writing = false;

  const flush = async (): Promise<void> => {
    scheduled = false;
    writing = true;
    while (queue.length > 0) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      const started = observe ? performance.now() : 0;
      const span = startBatchSpan('store.commit', batch.map((w) => w.caller), { 'db.operation.batch.size': batch.length });
      try {
        const results = await write(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i] as O));
      } catch (error) {
        if (span) failSpan(span, error);
        for (const w of batch) w.reject(error);
      }
      span?.end();
      if (observe) report(observe, batch.length, (performance.now() - started) / 1000);
    }
    writing = false;
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject, caller: recordingCaller() });
      // A batch being written picks up what arrives meanwhile; otherwise wait for the turn's end.
      if (!scheduled && !writing) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}

/** An observer that throws must not stop the writer (the loop would stay `writing` for good). */
function report(observe: (batchSize: number, seconds: number) => void, batchSize: number, seconds: number): void {
  try {
    observe(batchSize, seconds);
  } catch {
    /* metrics only */
  }
}
