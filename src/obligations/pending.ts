// The answers of a paused or stepped-up agent request: OAuthErrors whose JSON carries the extra
// members a client needs. authorization_pending with auth_req_id, interval and expires_in (the CIBA
// authentication response's members, CIBA Core §7.3), so that any CIBA-capable client can poll the
// token endpoint with grant_type urn:openid:params:grant-type:ciba; insufficient_user_authentication
// with the acr_values / max_age wanted (RFC 9470 §3).
// A pause itself is a result (Paused), not an error: it travels back to dispatch, which writes its
// own receipt (passport.paused) and only then gives the client the authorization_pending answer.
import { OAuthError } from '../oauth/errors.ts';
import type { StepUp } from './types.ts';

/** A request a policy paused for approval: nothing was minted; the agent polls with `authReqId`. */
export type Paused = { kind: 'paused'; approvalId: string; authReqId: string; interval: number; expiresIn: number; reason: string };

export const isPaused = (value: object): value is Paused => (value as { kind?: unknown }).kind === 'paused';

/** What the client is told of a pause (CIBA Core §7.3's members in an authorization_pending answer). */
export const pausedAnswer = (paused: Paused): PendingApprovalError => new PendingApprovalError(paused.authReqId, paused.interval, paused.expiresIn, paused.reason);

export class PendingApprovalError extends OAuthError {
  constructor(
    readonly authReqId: string,
    readonly interval: number,
    readonly expiresIn: number,
    reason: string,
  ) {
    super('authorization_pending', 'this request needs approval: poll the token endpoint with grant_type urn:openid:params:grant-type:ciba and this auth_req_id', { reason });
  }

  override toJSON(): { error: 'authorization_pending'; error_description: string; auth_req_id: string; interval: number; expires_in: number } {
    return { error: 'authorization_pending', error_description: this.description, auth_req_id: this.authReqId, interval: this.interval, expires_in: this.expiresIn };
  }
}

export class StepUpError extends OAuthError {
  constructor(
    readonly stepUp: StepUp,
    reason: string,
  ) {
    const wanted = [stepUp.acr !== undefined ? `acr ${stepUp.acr}` : '', stepUp.maxAge !== undefined ? `an authentication at most ${stepUp.maxAge} s old` : ''].filter(Boolean).join(' and ');
    // 400, not RFC 9470's 401: at the token endpoint 401 means the client's own authentication failed (RFC 6749 §5.2).
    super('insufficient_user_authentication', `the person must sign in again with ${wanted}, then the request may be repeated with their new token`, { status: 400, reason });
  }

  override toJSON(): { error: 'insufficient_user_authentication'; error_description: string; acr_values?: string; max_age?: number } {
    return { error: 'insufficient_user_authentication', error_description: this.description, ...(this.stepUp.acr !== undefined ? { acr_values: this.stepUp.acr } : {}), ...(this.stepUp.maxAge !== undefined ? { max_age: this.stepUp.maxAge } : {}) };
  }
}
