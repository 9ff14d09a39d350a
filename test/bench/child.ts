// Child side of a benchmark server process (the parent side is spawn.ts): announce() reports the
// URL over IPC and stops the server on SIGTERM or when the parent goes away; answer() serves the
// parent's requests (ServerProcess.ask), e.g. for pools of single-use credentials made before a
// target runs. Node built-ins only: this file also runs as plain JavaScript (see compile.ts).

type Reply = { reply: number; result?: unknown; error?: string };

/** Child side: tell the parent where we listen; close cleanly when told to stop or orphaned. */
export function announce(url: string, close: () => Promise<void>): void {
  if (!process.send) throw new Error('benchmark servers must be started by the bench (no IPC channel)');
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
  process.send({ url });
}

/** Child side: answer the parent's ask() calls with `handle`; a thrown error is sent back as the reason. */
export function answer(handle: (request: Record<string, unknown>) => Promise<unknown>): void {
  if (!process.send) throw new Error('benchmark servers must be started by the bench (no IPC channel)');
  const send = (reply: Reply) => process.send?.(reply);
  process.on('message', (message: { ask?: unknown; request?: unknown }) => {
    if (typeof message?.ask !== 'number' || typeof message.request !== 'object' || message.request === null) return;
    const id = message.ask;
    handle(message.request as Record<string, unknown>).then(
      (result) => send({ reply: id, result }),
      (error: unknown) => send({ reply: id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
