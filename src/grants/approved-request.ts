// Polling for a request that waits for people (CIBA §10–11, RFC 8628 §3.4–3.5), shared by the
// CIBA grant and the device code grant: 1 the request is the caller's  2 not polled too fast
// (slow_down, the interval grows)  3 expired / denied / still pending  4 approved: issued exactly
// once. And what an approved person request yields: the Passport (naming the approval), an ID
// token with openid, a refresh token for clients allowed one.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { DpopBinding } from '../dpop/request.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import { OAuthError } from '../oauth/errors.ts';
import { checkAgentForPerson } from '../delegation/agent-person.ts';
import type { ApprovalKind, ApprovalRecord } from '../store/ports.ts';
import type { PersonGrant } from './person-grant.ts';
import { issuePersonTokens, passportTarget, type PersonTokenDeps } from './person-tokens.ts';
import type { GrantResult } from './types.ts';
import { approvalTrail, type Trail } from '../audit/trail.ts';

/** What a CIBA or device request asked for, kept with it until it is approved. */
export type PersonRequest = {
  identityScopes: string[];
  resource?: string | undefined;
  resourceScopes: string[];
  authorizationDetails?: AuthorizationDetail[] | undefined;
  bindingMessage?: string | undefined;
  acrValues?: string[] | undefined;
};

/** `beforeIssue`: checks of the poll itself (a DPoP key) made before the approval is spent, so that a wrong poll does not burn it. */
export async function pollApproval(
  deps: Pick<Deps, 'store'>,
  client: ClientConfig,
  pollToken: string,
  kinds: readonly ApprovalKind[],
  what: string,
  now: number,
  beforeIssue?: (record: ApprovalRecord) => void,
  trail?: Trail,
): Promise<ApprovalRecord> {
  // 1.
  if (trail) trail.at = 'approval';
  const poll = await deps.store.approvals.poll(hashId(pollToken), client.client_id, now);
  if (poll.status === 'unknown' || !kinds.includes(poll.record.kind)) throw new OAuthError('invalid_grant', `the ${what} is invalid or was issued to another client`, { reason: 'unknown_request' });
  const { record } = poll;
  // Who decided, and the policy that made it wait: in the trail whatever this poll gets.
  if (trail) Object.assign(trail, approvalTrail(record), { subject: record.sub });
  // 3. Expiry first: an expired request never issues, however it was decided.
  if (record.expiresAt <= now) throw new OAuthError('expired_token', `the ${what} has expired`, { reason: 'request_expired' });
  if (record.status === 'issued') throw new OAuthError('invalid_grant', `the ${what} was already used`, { reason: 'already_issued' });
  if (record.status === 'denied') throw new OAuthError('access_denied', 'the request was denied', { reason: 'denied' });
  // 2.
  if (poll.status === 'slow_down') throw new OAuthError('slow_down', `poll no more often than every ${record.intervalSeconds} seconds`, { reason: 'slow_down' });
  if (record.status === 'pending') throw new OAuthError('authorization_pending', 'the request is waiting for approval', { reason: 'pending' });
  // 4. Exactly one poll turns an approval into tokens.
  beforeIssue?.(record);
  if (trail) trail.at = 'approval';
  if (!(await deps.store.approvals.markIssued(record.id, now))) throw new OAuthError('invalid_grant', `the ${what} was already used`, { reason: 'already_issued' });
  return record;
}

export async function issueApprovedPersonTokens(options: { deps: PersonTokenDeps; client: ClientConfig; record: ApprovalRecord; grantType: 'ciba' | 'device_code'; dpop?: DpopBinding | undefined; receipt: string; now: number; trail: Trail }): Promise<GrantResult> {
  const { deps, client, record, now, trail } = options;
  const asked = record.request as PersonRequest;
  if (record.sub === undefined) throw new OAuthError('invalid_grant', 'the request has nobody to issue for', { reason: 'no_subject' });
  const claims = (await deps.store.subjects.claimsOf(record.sub)) ?? {};
  // An agent is checked again at issuance (its policy or state may have changed meanwhile).
  trail.at = 'delegation_policy';
  checkAgentForPerson(deps, client, { sub: record.sub, claims, resource: asked.resource, resourceScopes: asked.resourceScopes, details: asked.authorizationDetails ?? [] }, options.dpop !== undefined);
  if (client.kind === 'agent') trail.delegation = { verdict: 'allowed', chain: [client.client_id] };
  trail.at = 'resource';
  // The person's approval is their authentication for this grant.
  const approval = record.decisions.find((d) => d.approverSub === record.sub && d.decision === 'approve');
  const grant: PersonGrant = {
    sub: record.sub,
    clientId: client.client_id,
    identityScopes: asked.identityScopes,
    resource: asked.resource,
    resourceScopes: asked.resourceScopes,
    authorizationDetails: asked.authorizationDetails,
    redirectUri: '',
    codeChallenge: '',
    authTime: approval?.decidedAt ?? record.decidedAt ?? now,
    sid: `approval-${record.id}`,
    claims,
  };
  const familyId = randomId();
  const familyExpiresAt = now + deps.config.main.authorization.refresh_family_max_seconds;
  await deps.store.families.createFamily({ id: familyId, clientId: client.client_id, sub: record.sub, createdAt: now, expiresAt: familyExpiresAt });
  return issuePersonTokens({
    deps,
    client,
    issued: grant,
    grant,
    target: passportTarget(deps, client, grant),
    familyId,
    familyExpiresAt,
    claims,
    grantType: options.grantType,
    dpop: options.dpop,
    approvalId: record.id,
    ...(client.kind === 'agent' ? { act: { sub: client.client_id } } : {}),
    receipt: options.receipt,
    now,
    trail,
  });
}
