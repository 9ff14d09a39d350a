// CPU time of server processes from Linux /proc (user + system), for `npm run bench` and
// `npm run bench:postgres`: on a machine shared with other work, requests/s swing with everyone
// else's load, while the CPU a server spends per request mostly does not. A process tree (the PostgreSQL postmaster) counts its
// live children and, through cutime/cstime, the children it has already reaped (autovacuum workers).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times: Linux's USER_HZ, 100 on every common build. */
const ticksPerSecond = 100;

type Stat = { ppid: number; ticks: number; reapedTicks: number };

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const field = (n: number) => Number(fields[n - 3]);
    return { ppid: field(4), ticks: field(14) + field(15), reapedTicks: field(16) + field(17) };
  } catch {
    return undefined; // gone, or not Linux
  }
}

/** CPU seconds used so far by these processes, and by every child of the `trees` (and their reaped children). */
export function cpuSeconds(pids: number[], trees: number[] = []): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  if (trees.length > 0) {
    for (const root of trees) {
      const stat = readStat(root);
      ticks += stat ? stat.ticks + stat.reapedTicks : 0;
    }
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat && trees.includes(stat.ppid)) ticks += stat.ticks;
    }
  }
  return ticks / ticksPerSecond;
}
