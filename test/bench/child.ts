// Runs a benchmark server in its own Node process, so it never shares an event loop with the
// load generator. Parent side: spawnServer(). Child side: announce() reports the URL over IPC
// and stops the server on SIGTERM or when the parent goes away.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export type ServerProcess = { name: string; url: string; pid: number; stop(): Promise<void> };

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
  return new Promise((resolveStart, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      void stop().finally(() => reject(new Error(`${entry}: ${reason}`)));
    };
    const timer = setTimeout(() => fail(`no URL within ${startTimeoutMs} ms`), startTimeoutMs);
    const onExit = (code: number | null, signal: string | null) => fail(`exited before announcing its URL (code ${code}, signal ${signal})`);
    child.once('error', (error) => fail(error.message));
    child.once('exit', onExit);
    child.once('message', (message: { url?: unknown }) => {
      if (typeof message?.url !== 'string') return fail(`unexpected message ${JSON.stringify(message)}`);
      clearTimeout(timer);
      child.off('exit', onExit);
      resolveStart({ name: entry, url: message.url, pid: child.pid as number, stop });
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
