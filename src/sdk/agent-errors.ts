// The agent SDK's one error type: every OAuth error a Consulate endpoint answers (RFC 6749 §5.2,
// RFC 8628 §3.5, CIBA §11, RFC 9449 §7.1) becomes a ConsulateOAuthError with its code,
// description and HTTP status. It must not swallow other failures (network, aborts): those pass
// through unchanged so callers can tell "the server said no" from "we never reached it".
import * as client from 'openid-client';

export class ConsulateOAuthError extends Error {
  override readonly name = 'ConsulateOAuthError';
  /** The OAuth `error` code, e.g. `invalid_scope`, `access_denied`, `expired_token`. */
  readonly code: string;
  readonly description: string | undefined;
  /** The HTTP status of the answer; undefined when the SDK decided locally (a poll that ran out of time). */
  readonly status: number | undefined;
  /** The whole error body, for extension fields such as `acr_values` or `auth_req_id`. */
  readonly body: Record<string, unknown>;

  constructor(code: string, options: { description?: string | undefined; status?: number | undefined; body?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.description ? `${code}: ${options.description}` : code, { cause: options.cause });
    this.code = code;
    this.description = options.description;
    this.status = options.status;
    this.body = options.body ?? { error: code, ...(options.description ? { error_description: options.description } : {}) };
  }
}

/** openid-client's error for an OAuth answer, as a ConsulateOAuthError; anything else unchanged. */
export function toConsulateError(error: unknown): unknown {
  if (error instanceof ConsulateOAuthError) return error;
  if (error instanceof client.ResponseBodyError) {
    return new ConsulateOAuthError(error.error, { description: error.error_description, status: error.status, body: { ...error.cause }, cause: error });
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    // A 401 challenge (RFC 6750 §3, RFC 9449 §7.1): the first challenge that names an error.
    const named = error.cause.find((challenge) => typeof challenge.parameters.error === 'string');
    const code = named?.parameters.error ?? 'invalid_client';
    return new ConsulateOAuthError(code, { description: named?.parameters.error_description, status: error.status, cause: error });
  }
  // Not an OAuth answer: openid-client's OAUTH_TIMEOUT is a request that got no answer in time (the
  // server or the network), never a waiting request's expiry (the agent client's polling decides that).
  return error;
}
