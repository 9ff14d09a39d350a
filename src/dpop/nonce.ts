// Server-provided DPoP nonces (RFC 9449 §8): stateless and verifiable by every node sharing the
// secret — HMAC-SHA-256 over (endpoint, time window). The current and the previous window are
// accepted, so a nonce lives between one and two windows. Pure: the secret and the clock come in.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type NonceIssuer = {
  /** The nonce to hand out now for this endpoint. */
  current(endpoint: string, now: number): string;
  /** True when `nonce` is this endpoint's current or previous one. */
  check(endpoint: string, nonce: string | undefined, now: number): boolean;
};

export function createNonceIssuer(secret: Buffer, windowSeconds: number): NonceIssuer {
  const make = (endpoint: string, window: number) => {
    const mac = createHmac('sha256', secret).update(`dpop-nonce:${endpoint}:${window}`).digest().subarray(0, 18);
    return `${window.toString(36)}.${mac.toString('base64url')}`;
  };
  const windowOf = (now: number) => Math.floor(now / windowSeconds);
  return {
    current: (endpoint, now) => make(endpoint, windowOf(now)),
    check(endpoint, nonce, now) {
      if (nonce === undefined || nonce.length > 64) return false;
      const window = windowOf(now);
      return [window, window - 1].some((w) => {
        const expected = Buffer.from(make(endpoint, w));
        const given = Buffer.from(nonce);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    },
  };
}
