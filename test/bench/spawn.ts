// Parent side of a benchmark server process (the child side is child.ts): each server runs in its
// own Node process, so it never shares an event loop with the load generator. spawnServer() starts
// test/bench/<entry> through tsx, or as plain JavaScript (compile.ts) so that tsx adds nothing to
// the process measured; optionally pinned to one CPU with taskset (execs, so the pid is Node's).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileForNode } from './compile.ts';

/** Resident and peak resident memory of a process, in MB (Linux /proc), undefined elsewhere. */
export type Memory = { rssMb: number; hwmMb: number };

export type ServerProcess = {
  name: string;
  url: string;
  pid: number;
  /** Sends a request to the child's answer() handler and resolves with its result. */
  ask<T>(request: Record<string, unknown>): Promise<T>;
  /** VmRSS and VmHWM of the server process now. */
  memory(): Memory | undefined;
  stop(): Promise<void>;
};

export type SpawnOptions = {
  /** 'tsx' (default): `node --import tsx <entry>.ts`; 'node': the transpiled entry on plain Node. */
  runtime?: 'tsx' | 'node';
  /** Pins the process to this CPU with `taskset -c`. */
  cpu?: number;
  /** Node options before the entry, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  startTimeoutMs?: number;
};

type Reply = { reply: number; result?: unknown; error?: string };

const repoRoot = resolve(import.meta.dirname, '../..');

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(hwm) ? { rssMb: rss / 1024, hwmMb: hwm / 1024 } : undefined;
  } catch {
    return undefined;
  }
}

/** Spawns test/bench/<entry> and resolves with the URL it announces (child.ts announce()). */
export function spawnServer(entry: string, env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Promise<ServerProcess> {
  const { runtime = 'tsx', cpu, startTimeoutMs = 30_000 } = options;
  const script = runtime === 'node' ? compileForNode(entry) : resolve(import.meta.dirname, entry);
  const nodeArgs = [...(options.nodeArgs ?? []), ...(runtime === 'tsx' ? ['--import', 'tsx'] : []), script];
  const [command, args] = cpu === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]];
  const child = spawn(command, args, {
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
      const pid = child.pid as number;
      resolveStart({ name: entry, url: message.url, pid, ask, memory: () => readMemory(pid), stop });
    });
  });
}
