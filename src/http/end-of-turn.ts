// Answers leave at the end of the event-loop turn they are ready in, together. Writing one answer
// to a socket whose reader sleeps costs the writer the reader's wake-up: on loopback the kernel
// delivers the bytes and wakes the reader inside our writev, and on a virtual machine waking a
// thread on another CPU is an interrupt between CPUs, dear. Answers written back to back find the
// reader awake after the first. Measured on this project's 2-core VM with wrk on loopback:
// introspection 135 → 68 µs of CPU per request, 7,000 → 14,700 requests/s, p99 61 → 8 ms
// (docs/contributors/benchmarks.md). The cost is at most the rest of the turn, a few ms under load.
// Only for answers that wait for nothing else: an issuance already leaves with its batch (the
// turn's signatures, then its group commit), and one more turn cost it ~4 % of CPU.

let turn: Promise<void> | undefined;

/** Settles at the end of the current event-loop turn (its check phase), one promise for all who wait in it. */
export function endOfTurn(): Promise<void> {
  return (turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  ));
}
