// A paused token exchange or JWT bearer request, approved (src/consent/pause-exchange.ts paused it):
// the agent polls the CIBA grant with the auth_req_id it was given and receives exactly the
// Passport that was approved, naming the approval. 1 the request is one we paused, for this
// client  2 the same DPoP key as the original request (or none, if it had none)  3 the subject
// token still stands  4 the shared delegated-Passport steps on the stored facts, policies skipped
// (the approval satisfied them)  5 the answer the original grant would have given.
// pollApproval has already turned the approval into "issued" (after checkPausedHolder): a failure here spends it.
import type { ClientConfig } from '../config/schema.ts';
import { jwtBearerGrant, tokenExchangeGrant } from '../oauth/grant-types.ts';
import type { DpopBinding } from '../dpop/request.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { PausedExchange } from '../consent/pause-exchange.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import { delegatedReceiptDetails, delegatedResponse, issueDelegatedPassport, type DelegatedPassportDeps } from './delegated-passport.ts';
import type { GrantResult } from './types.ts';
import { subjectMapping, type Trail } from '../audit/trail.ts';

const unknownRequest = (reason: string) => new OAuthError('invalid_grant', 'the auth_req_id is invalid or was issued to another client', { reason });

/** RFC 9449 §5: what was approved was bound to the original proof's key; only that key may collect it (checked before the approval is spent). */
export function checkPausedHolder(record: ApprovalRecord, dpop: DpopBinding | undefined): void {
  const dpopJkt = pausedOf(record)?.exchange.dpopJkt;
  if (dpopJkt !== undefined && dpop?.jkt !== dpopJkt) {
    throw new OAuthError('invalid_dpop_proof', 'the paused request was made with a DPoP proof: poll with a proof made by the same key', { reason: dpop ? 'approved_exchange_other_key' : 'approved_exchange_no_proof' });
  }
  if (dpopJkt === undefined && dpop !== undefined) {
    throw new OAuthError('invalid_dpop_proof', 'the paused request was made without DPoP: poll without a proof', { reason: 'approved_exchange_unexpected_proof' });
  }
}

export async function issueApprovedExchange(options: { deps: DelegatedPassportDeps; client: ClientConfig; record: ApprovalRecord; dpop?: DpopBinding | undefined; receipt: string; now: number; trail: Trail }): Promise<GrantResult> {
  const { deps, client, record, dpop, receipt, now, trail } = options;
  // 1.
  if (record.kind !== 'exchange' || record.clientId !== client.client_id) throw unknownRequest('exchange_other_client');
  const paused = pausedOf(record);
  if (!paused) throw unknownRequest('exchange_request_malformed');
  const { subject, grant } = paused.exchange;
  const mapping = subjectMapping(deps.config, subject);
  if (mapping) trail.mapping = mapping;
  // 2.
  checkPausedHolder(record, dpop);
  // 3.
  trail.at = 'subject_token';
  if (subject.jti !== undefined && (await deps.store.revocations.isRevoked(subject.jti))) throw new OAuthError('invalid_grant', 'the subject token was revoked', { reason: 'approved_exchange_subject_revoked' });
  // 4. The stored target, scopes and details, checked again against today's config and delegation.
  const passport = await issueDelegatedPassport({
    deps,
    client,
    subject,
    targets: [paused.resource],
    scopes: paused.resourceScopes,
    rawDetails: paused.authorizationDetails.length ? JSON.stringify(paused.authorizationDetails) : undefined,
    dpop,
    receipt,
    now,
    grant,
    approvalId: record.id,
    trail,
    targetBy: 'approved',
  });
  // 5.
  const { claims } = passport;
  const grantType = grant === 'jwt_bearer' ? jwtBearerGrant : tokenExchangeGrant;
  return {
    response: delegatedResponse(passport, grant === 'token_exchange'),
    audit: {
      event: grant === 'jwt_bearer' ? 'passport.issued' : 'passport.exchanged',
      subject: claims.sub,
      tokenJti: claims.jti,
      details: {
        grant_type: grantType,
        approval: record.id,
        approved_by: record.decisions.filter((d) => d.decision === 'approve').map((d) => d.approverSub),
        policy: `${paused.exchange.policy}/${paused.exchange.rule}`,
        ...delegatedReceiptDetails(passport, subject),
      },
    },
  };
}

/** The stored request, read defensively (it came back from the database). */
function pausedOf(record: ApprovalRecord): PausedExchange | undefined {
  const r = record.request as Partial<PausedExchange>;
  const e = r.exchange;
  if (!e || e.version !== 1 || (e.grant !== 'token_exchange' && e.grant !== 'jwt_bearer') || typeof e.subject !== 'object' || e.subject === null) return undefined;
  if (typeof r.resource !== 'string' || !Array.isArray(r.resourceScopes) || !Array.isArray(r.authorizationDetails)) return undefined;
  return r as PausedExchange;
}
