// The database cannot serve right now: a lock another process holds past the short wait, a server
// out of reach or shutting down, a statement cut by its timeout, no connection to spare. Not a bug:
// the request may be retried, so it is answered 503 with Retry-After (http/errors.ts), never a 500.
// Recognised by the driver's own codes, so the services and http never see driver types.

/** Thrown by a store that knows the database is unavailable. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

const sqliteCodes = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);
// SQLSTATE: 08 connection exceptions; 57P01-57P03 shutdown / cannot connect now; 57014 cancelled
// (statement_timeout); 53300 too many connections; 40P01 a deadlock left after the retries.
const pgCodes = /^(08...|57P0[123]|57014|53300|40P01)$/;
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
const poolMessages = /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|not currently accepting connections|the database system is (starting up|shutting down)/i;

/** True for a database that cannot serve right now, anywhere in the error's cause chain. */
export function isStoreUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof StoreUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (sqliteCodes.has(code) || pgCodes.test(code) || networkCodes.has(code))) return true;
    if (current instanceof Error && poolMessages.test(current.message)) return true;
  }
  return false;
}
