// Structured JSON logs (pino). Known secret-bearing fields are redacted wherever they appear,
// as a second line of defence: code never logs tokens, secrets, codes or cookies on purpose.
import { pino, type Logger } from 'pino';

export type { Logger };

const redactPaths = [
  'authorization', '*.authorization', 'cookie', '*.cookie', 'client_secret', '*.client_secret',
  'client_assertion', '*.client_assertion', 'token', '*.token', 'access_token', '*.access_token',
  'refresh_token', '*.refresh_token', 'code', '*.code', 'secret', '*.secret', 'password', '*.password',
];

/** Times are epoch milliseconds (`time`), pino's cheapest form. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'consulate' }, redact: { paths: redactPaths, censor: '[redacted]' } }, destination ?? process.stdout);
}

/**
 * The per-request line. Its fields are fixed (request id, method, path, status, duration) and can
 * never hold a secret, so it skips the redaction pass: that pass cost ~5x the line itself.
 */
export function createRequestLog(log: Logger): Logger {
  return log.child({}, { redact: { paths: [] } });
}
