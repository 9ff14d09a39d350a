// Listening on a port, with the failure an operator can act on said in one line: which listener,
// which address, and what to change. A raw EADDRINUSE stack names none of these.
import type { Server } from 'node:http';

export class ListenError extends Error {
  constructor(what: string, host: string, port: number, code: string | undefined) {
    const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use (another Consulate, or another program, is listening there)'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'no network interface of this machine has that address'
            : (code ?? 'failed');
    super(`${what} cannot listen on ${at}: ${why}`);
    this.name = 'ListenError';
  }
}

/** Resolves once `server` listens; rejects with a ListenError naming `what` when it cannot. */
export function listenOn(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(what, host, port, error.code));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolveListen();
    });
  });
}
