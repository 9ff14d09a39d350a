// Counts failed attempts per key (a browser's login session) in a sliding window: after `max`
// failures within `windowSeconds`, the key must wait until the oldest of them leaves the window.
// RFC 8628 §5.1: the user code's small space is safe only with such a limit.
// In memory and bounded on purpose: no store port for counters exists yet, and a failure count is
// worth less than a write per attempt. Each key keeps at most `max` timestamps and at most
// `capacity` keys are kept (the ones idle longest go first). Consequences: each node counts on its
// own and a restart forgets; a session only comes from a real SSO login, so neither is cheap to use.
export type AttemptLimiter = {
  /** Seconds until `key` may try again; 0 when it may now. */
  waitSeconds(key: string, max: number, now: number): number;
  /** Records a failure; returns how many attempts are left in the window (0: must wait). */
  fail(key: string, max: number, now: number): number;
};

export function createAttemptLimiter(options: { windowSeconds: number; capacity?: number }): AttemptLimiter {
  const { windowSeconds } = options;
  const capacity = options.capacity ?? 10_000;
  const failures = new Map<string, number[]>();
  const recent = (key: string, max: number, now: number) => (failures.get(key) ?? []).filter((at) => at > now - windowSeconds).slice(-max);

  return {
    waitSeconds(key, max, now) {
      const list = recent(key, max, now);
      if (list.length < max) return 0;
      return Math.max(1, (list[0] as number) + windowSeconds - now);
    },
    fail(key, max, now) {
      const list = [...recent(key, max, now), now].slice(-max);
      // Re-inserted so that Map order is "least recently failed first".
      failures.delete(key);
      failures.set(key, list);
      for (const oldest of failures.keys()) {
        if (failures.size <= capacity) break;
        failures.delete(oldest);
      }
      return max - list.length;
    },
  };
}
