// Runs a benchmark server in its own Node process, so it never shares an event loop with the
// load generator. Parent side: spawnServer(). Child side: announce() reports the URL over IPC
// and stops the server on SIGTERM or when the parent goes away; answer() serves the parent's
// requests (ServerProcess.ask), e.g. for pools of single-use credentials made before a target runs.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export type ServerProcess = {
  name: string;
  url: string;
  pid: number;
  /** Sends a request to the child's answer() handler and resolves with its result. */
  ask<T>(request: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
};

type Reply = { reply: number; result?: unknown; error?: string };

const repoRoot = resolve(import.meta.dirname, '../..');

/** Spawns `node --import tsx test/bench/<entry>` and resolves with the URL it announces. */
export function spawnServer(entry: string, env: NodeJS.ProcessEnv = {}, startTimeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, entry)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  };

  // Requests in flight to the child, by id; all fail if it exits.
  let lastId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('exit', (code, signal) => {
    for (const { reject } of pending.values()) reject(new Error(`${entry}: exited (code ${code}, signal ${signal}) with a request pending`));
    pending.clear();
  });
  const ask = <T>(request: Record<string, unknown>) =>
    new Promise<T>((resolveReply, reject) => {
      const id = ++lastId;
      pending.set(id, { resolve: resolveReply as (value: unknown) => void, reject });
      child.send({ ask: id, request }, (error) => {
        if (!error) return;
        pending.delete(id);
        reject(error);
      });
    });

  return new Promise((resolveStart, reject) => {
    let announced = false;
    const fail = (reason: string) => {
      clearTimeout(timer);
      void stop().finally(() => reject(new Error(`${entry}: ${reason}`)));
    };
    const timer = setTimeout(() => fail(`no URL within ${startTimeoutMs} ms`), startTimeoutMs);
    const onExit = (code: number | null, signal: string | null) => fail(`exited before announcing its URL (code ${code}, signal ${signal})`);
    child.once('error', (error) => fail(error.message));
    child.once('exit', onExit);
    child.on('message', (message: { url?: unknown } & Partial<Reply>) => {
      if (announced) {
        const waiting = typeof message?.reply === 'number' ? pending.get(message.reply) : undefined;
        if (!waiting) return console.error(`${entry}: unexpected message ${JSON.stringify(message).slice(0, 200)}`);
        pending.delete(message.reply as number);
        if (message.error !== undefined) waiting.reject(new Error(`${entry}: ${message.error}`));
        else waiting.resolve(message.result);
        return;
      }
      if (typeof message?.url !== 'string') return fail(`unexpected message ${JSON.stringify(message).slice(0, 200)}`);
      announced = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolveStart({ name: entry, url: message.url, pid: child.pid as number, ask, stop });
    });
  });
}

/** Child side: tell the parent where we listen; close cleanly when told to stop or orphaned. */
export function announce(url: string, close: () => Promise<void>): void {
  if (!process.send) throw new Error('benchmark servers must be started by test/bench/run.ts (no IPC channel)');
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
  if (!process.send) throw new Error('benchmark servers must be started by test/bench/run.ts (no IPC channel)');
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
