// Structured JSON logs (pino). Known secret-bearing fields are redacted wherever they appear,
// as a second line of defence: code never logs tokens, secrets, codes or cookies on purpose.
import { pino, type Logger } from 'pino';

export type { Logger };

const redactPaths = [
  'authorization', '*.authorization', 'cookie', '*.cookie', 'client_secret', '*.client_secret',
  'client_assertion', '*.client_assertion', 'token', '*.token', 'access_token', '*.access_token',
  'refresh_token', '*.refresh_token', 'code', '*.code', 'secret', '*.secret', 'password', '*.password',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'consulate' }, redact: { paths: redactPaths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stdout,
  );
}
