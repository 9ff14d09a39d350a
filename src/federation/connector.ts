// The upstream connector port: what the login flow needs from any upstream IdP. Upstream claims
// stay behind this port (and the default mapping); only canonical claims travel further.

export type LoginRequest = {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  acrValues?: string | undefined;
  maxAge?: number | undefined;
  prompt?: 'login' | 'none' | undefined;
  loginHint?: string | undefined;
};

export type LoginChecks = { state: string; nonce: string; codeVerifier: string; maxAge?: number | undefined };

/** What an upstream said about the person, verified (ID token signature, iss, aud, exp, nonce). */
export type UpstreamIdentity = {
  upstreamId: string;
  issuer: string;
  subject: string;
  claims: Readonly<Record<string, unknown>>;
};

export type UpstreamConnector = {
  readonly id: string;
  /** The URL to send the browser to. */
  loginUrl(request: LoginRequest): Promise<URL>;
  /** Checks the callback (state, iss, code + PKCE at the token endpoint, ID token) and returns the identity. */
  completeLogin(callbackUrl: URL, checks: LoginChecks): Promise<UpstreamIdentity>;
};

/** Why an upstream login failed; the wire (an error page) gets a generic sentence, the log gets this. */
export class UpstreamError extends Error {
  readonly reason: 'unreachable' | 'timeout' | 'rejected' | 'invalid_response' | 'access_denied' | 'denied';
  /** For `denied`: the operator's sentence for the person (a mapping rule's reason). */
  readonly shown: string | undefined;
  /** Where the browser was going when a started login failed (an authorization request's continuation, or a page). */
  readonly returnTo: string | undefined;
  constructor(reason: UpstreamError['reason'], message: string, options?: { cause?: unknown; shown?: string | undefined; returnTo?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.reason = reason;
    this.shown = options?.shown;
    this.returnTo = options?.returnTo;
  }

  /** An upstream failing (5xx, unreachable, too slow), not refusing: a gateway error, temporarily_unavailable to an app. */
  get isOutage(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout';
  }
}
