// Wrong user codes per login session (RFC 8628 §5.1: the user code's small space is safe only with
// such a limit): `device.user_code_attempts` per 10 minutes, then the session waits. Counted like
// the other limits (limits.ts): in memory on SQLite, shared by every node on PostgreSQL, so a
// session cannot spread its guesses over nodes.
// The window is measured on Consulate's clock (`now`: the same on every node, and the one tests
// move) from the session's sign-in: window n is [createdAt + n·600, createdAt + (n+1)·600), and its
// counter is keyed by the session's sid and n. The counter's own expiry (the library's, in real
// time, one window after the first failure) only cleans up.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimitReached } from './types.ts';

export const userCodeWindowSeconds = 600;

/** The login session that enters codes (SessionRecord's fields). */
export type CodeEnteringSession = { sid: string; createdAt: number };

export type UserCodeAttempts = {
  /** Seconds until this session may try again; 0 when it may now. */
  waitSeconds(session: CodeEnteringSession, max: number, now: number): Promise<number>;
  /** Records a wrong code; returns how many attempts are left in the window (0: must wait). */
  failed(session: CodeEnteringSession, max: number, now: number): Promise<number>;
};

export function createUserCodeAttempts(limiter: RateLimiterAbstract | undefined, onReached: (reached: LimitReached) => void): UserCodeAttempts {
  const windowOf = (session: CodeEnteringSession, now: number) => {
    const n = Math.max(0, Math.floor((now - session.createdAt) / userCodeWindowSeconds));
    return { key: `${session.sid}:${n}`, endsIn: Math.max(1, session.createdAt + (n + 1) * userCodeWindowSeconds - now) };
  };
  return {
    async waitSeconds(session, max, now) {
      if (!limiter) return 0;
      const { key, endsIn } = windowOf(session, now);
      const res = await limiter.get(key);
      return res && res.consumedPoints >= max ? endsIn : 0;
    },
    async failed(session, max, now) {
      if (!limiter) return max;
      const { key, endsIn } = windowOf(session, now);
      const res = await limiter.penalty(key);
      // Once per session and window: the failure that reaches the limit.
      if (res.consumedPoints === max) onReached({ limit: 'user_code_attempts', keyKind: 'session', key: session.sid, retryAfterSeconds: endsIn });
      return Math.max(0, max - res.consumedPoints);
    },
  };
}
