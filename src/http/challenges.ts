// The WWW-Authenticate challenges of Consulate's own protected endpoints (userinfo, receipts, the
// approvals API, SSF, registration), written with the formatter the SDK's guard uses
// (oauth/www-authenticate.ts). Descriptions are fixed texts: nothing from the request goes in.
import { dpopAlgorithms } from '../dpop/proof.ts';
import { OAuthError, type OAuthErrorCode } from '../oauth/errors.ts';
import { formatChallenge, type ChallengeParam } from '../oauth/www-authenticate.ts';

export type Scheme = 'Bearer' | 'DPoP';
type ChallengeError = { code: string; description?: string | undefined; params?: readonly ChallengeParam[] };

const errorParams = (error: ChallengeError | undefined): ChallengeParam[] =>
  error === undefined ? [] : [['error', error.code], ...(error.description !== undefined ? [['error_description', error.description] as const] : []), ...(error.params ?? [])];

/** RFC 6750 §3: `Bearer`, or `Bearer error=..., error_description=..., <params>`. */
export const bearerChallenge = (error?: ChallengeError): string => formatChallenge('Bearer', errorParams(error));

/** RFC 9449 §7.1: the DPoP challenge always names the proof algorithms we accept. */
export const dpopChallenge = (error?: ChallengeError): string => formatChallenge('DPoP', [...errorParams(error), ['algs', dpopAlgorithms.join(' ')]]);

export const challengeOf = (scheme: Scheme, error?: ChallengeError): string => (scheme === 'DPoP' ? dpopChallenge(error) : bearerChallenge(error));

/** An OAuthError answered with the challenge of the scheme the client used (or should use). */
export function challengeError(scheme: Scheme, code: OAuthErrorCode, description: string, reason: string, options: { status?: number; params?: readonly ChallengeParam[] } = {}): OAuthError {
  return new OAuthError(code, description, {
    reason,
    ...(options.status !== undefined ? { status: options.status } : {}),
    headers: { 'WWW-Authenticate': challengeOf(scheme, { code, description, ...(options.params ? { params: options.params } : {}) }) },
  });
}

/** RFC 9449 §7.1: proof errors at a protected endpoint are 401 challenges of the DPoP scheme. */
export function asChallenge(error: unknown): unknown {
  if (!(error instanceof OAuthError) || (error.code !== 'invalid_dpop_proof' && error.code !== 'use_dpop_nonce')) return error;
  return new OAuthError(error.code, error.description, {
    status: 401,
    reason: error.reason,
    headers: { ...error.headers, 'WWW-Authenticate': dpopChallenge({ code: error.code, description: error.description }) },
  });
}
