// The one error model of the wire: RFC 6749 §5.2 error objects plus the codes later RFCs add.
// Imports nothing internal. Descriptions must never carry secrets, tokens or whether a user exists.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_request_uri'
  | 'invalid_request_object'
  | 'unsupported_response_type'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_authorization_details'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'insufficient_user_authentication'
  | 'unknown_user_id' // CIBA §13: the hint names nobody known
  | 'invalid_binding_message' // CIBA §13
  | 'invalid_redirect_uri' // RFC 7591 §3.2.2
  | 'invalid_client_metadata' // RFC 7591 §3.2.2
  | 'invalid_software_statement' // RFC 7591 §3.2.2
  | 'budget_exceeded' // ours: a delegation's budget would be overspent (usage endpoint)
  | 'method_not_allowed'
  | 'not_found'
  | 'request_too_large'
  | 'server_error'
  | 'temporarily_unavailable';

const defaultStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_request_uri: 400,
  invalid_request_object: 400,
  unsupported_response_type: 400,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_authorization_details: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  unsupported_token_type: 400,
  access_denied: 400,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  insufficient_user_authentication: 401,
  unknown_user_id: 400,
  invalid_binding_message: 400,
  budget_exceeded: 403,
  method_not_allowed: 405,
  not_found: 404,
  request_too_large: 413,
  server_error: 500,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;
  readonly description: string;
  readonly headers: Record<string, string>;
  /** Which check failed, for logs and audit only; the wire sees `description`. */
  readonly reason: string | undefined;

  constructor(
    code: OAuthErrorCode,
    description: string,
    options: { status?: number; headers?: Record<string, string>; cause?: unknown; reason?: string } = {},
  ) {
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? defaultStatus[code];
    this.headers = options.headers ?? {};
    this.reason = options.reason;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

export const isOAuthError = (value: unknown): value is OAuthError => value instanceof OAuthError;
