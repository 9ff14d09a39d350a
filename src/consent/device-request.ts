// The device authorization grant, service side (RFC 8628):
// 1 a device asks (§3.1): the client may use the grant; scope, resource and authorization_details
//   are checked as at /authorize; it gets a device code (the approval's poll token) and a user
//   code (§3.2), of which only the hash is kept; nobody is represented yet
// 2 a signed-in person enters the user code: the policies (grant device_code) decide on the request
//   now that the person is known; it becomes theirs, once (claim), with a step-up their own sign-in
//   must meet to approve it; a deny (or a consent others must give, which the device flow does not
//   offer yet) is recorded as the request's denial at once
// 3 they approve or deny (§3.3) as its only approver; the device's next poll hears the outcome.
// No hono, no SQL; wrong-code limits are the page's business.
import { validateAsk } from '../authorize/request.ts';
import type { ClientConfig } from '../config/schema.ts';
import { deviceCodeGrant } from '../oauth/grant-types.ts';
import { isActive } from '../delegation/policy.ts';
import type { Deps } from '../deps.ts';
import type { PersonRequest } from '../grants/approved-request.ts';
import { isOAuthError, OAuthError } from '../oauth/errors.ts';
import { approvalFor } from './approvers-for.ts';
import { stepUpRecord, type Authentication } from '../obligations/step-up.ts';
import type { TrailObligation } from '../audit/trail.ts';
import type { StepUp } from '../obligations/types.ts';
import type { Params } from '../oauth/params.ts';
import type { ApprovalRecord, ApproverRule } from '../store/ports.ts';
import { decideApproval, openApproval, type Decision } from './approvals.ts';
import { approverFrom, settle } from './approvers.ts';
import { notifyApproval } from './notify.ts';
import { displayUserCode, generateUserCode, hashUserCode, normaliseUserCode } from './user-code.ts';

export const verificationPath = '/device';

/** The device authorization response (RFC 8628 §3.2). */
export type DeviceAuthorization = {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
};

export async function startDeviceAuthorization(deps: Deps, client: ClientConfig, params: Params): Promise<DeviceAuthorization> {
  // 1. The client may use the grant, and (an agent) is active.
  if (!(client.grant_types as readonly string[]).includes(deviceCodeGrant)) throw new OAuthError('unauthorized_client', 'this client may not use the device_code grant');
  if (!isActive(client)) throw new OAuthError('unauthorized_client', `this agent is ${client.state}`, { reason: `client_${client.state}` });
  // 2. What is asked, exactly as /authorize checks it.
  const ask = validateAsk(deps, client, params);
  const request: PersonRequest = { identityScopes: ask.identityScopes, resource: ask.resource, resourceScopes: ask.resourceScopes, authorizationDetails: ask.authorizationDetails };
  // 3. The waiting request; the person who enters the code becomes its subject and approver.
  const { code_ttl_seconds: expiresIn, interval_seconds: interval } = deps.config.main.device;
  for (let attempt = 1; ; attempt++) {
    const userCode = generateUserCode();
    try {
      const opened = await openApproval(deps, { kind: 'device', clientId: client.client_id, request, approvers: { kind: 'subject' }, expiresIn, interval, userCodeHash: hashUserCode(userCode) });
      const verificationUri = deps.issuer.replace(/\/$/, '') + verificationPath;
      return {
        device_code: opened.pollToken,
        user_code: displayUserCode(userCode),
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${displayUserCode(userCode)}`,
        expires_in: expiresIn,
        interval,
      };
    } catch (error) {
      // The user code is unique among stored requests: a (very rare) collision draws another.
      if (attempt >= 3 || !/unique/i.test(String(error))) throw error;
    }
  }
}

/** What entering a user code amounts to for this person. */
export type Entered =
  | { status: 'mine'; record: ApprovalRecord; client: ClientConfig }
  /** Wrong, malformed or expired: the same answer, so a guess learns nothing more. */
  | { status: 'unknown' }
  /** Someone else entered it first. */
  | { status: 'taken' }
  /** Theirs, but already approved, denied or used. */
  | { status: 'answered' }
  /** Refused by policy when they entered it: the request is denied. */
  | { status: 'refused'; reason: string }
  /** The policy wants other people to approve (manager, dual): it now waits in their inbox. */
  | { status: 'waiting'; approvers: ApproverRule; client: ClientConfig };

export async function enterUserCode(deps: Deps, typed: string, sub: string): Promise<Entered> {
  const now = deps.now();
  const code = normaliseUserCode(typed);
  const found = code === undefined ? undefined : await deps.store.approvals.findByUserCode(hashUserCode(code), now);
  const client = found ? deps.config.clients.get(found.clientId) : undefined;
  if (!found || found.kind !== 'device' || !client) return { status: 'unknown' };
  // The first person to enter a pending code gets it; the store decides races.
  if (found.sub === undefined && found.status === 'pending') {
    const policy = await devicePolicy(deps, found, client, sub);
    // The request keeps a policy's step-up (for its approvers) and the rule that decided (for the receipt of the tokens).
    const request = policy.stepUp || policy.obligation ? { ...found.request, ...(policy.stepUp ? { stepUp: stepUpRecord(policy.stepUp) } : {}), ...(policy.obligation ? { obligation: policy.obligation } : {}) } : undefined;
    const others = policy.approvers && policy.approvers.kind !== 'subject' ? policy.approvers : undefined;
    if (await deps.store.approvals.claim(found.id, sub, now, request, others)) {
      await deps.receipts.record({ event: 'approval.claimed', clientId: found.clientId, subject: sub, details: { approval: found.id, kind: 'device', ...(others ? { approvers: others.kind } : {}) } });
      if (policy.refused) {
        await denyByPolicy(deps, found, sub, policy.refused, now);
        return { status: 'refused', reason: policy.refused.description };
      }
      if (others) {
        // Now that the person is known, the approvers are too: tell them, as for any new request.
        const claimed = await deps.store.approvals.find(found.id);
        if (claimed) notifyApproval(deps, 'approval.requested', claimed);
        return { status: 'waiting', approvers: others, client };
      }
      return { status: 'mine', record: { ...found, sub, request: request ?? found.request }, client };
    }
  }
  const record = found.sub === undefined ? await deps.store.approvals.find(found.id) : found;
  if (!record || record.expiresAt <= now || record.sub === undefined) return { status: 'unknown' };
  if (record.sub !== sub) return { status: 'taken' };
  if (record.status !== 'pending') return { status: 'answered' };
  return { status: 'mine', record, client };
}

/**
 * The policies on a device request and the person who entered its code: a deny (or a manager that
 * cannot be found) is `refused`; a consent that needs other people (manager, dual) routes the
 * request to them; a step-up is asked of whoever approves.
 */
async function devicePolicy(deps: Deps, record: ApprovalRecord, client: ClientConfig, sub: string): Promise<{ stepUp?: StepUp | undefined; approvers?: ApproverRule | undefined; obligation?: TrailObligation | undefined; refused?: OAuthError | undefined }> {
  const asked = record.request as PersonRequest;
  const claims = (await deps.store.subjects.claimsOf(sub)) ?? {};
  try {
    const { approvers, stepUp, obligation } = await approvalFor(deps, {
      client,
      grant: 'device_code',
      sub,
      claims,
      resource: asked.resource,
      scopes: [...(asked.identityScopes ?? []), ...(asked.resourceScopes ?? [])],
      details: asked.authorizationDetails ?? [],
    });
    return { stepUp, approvers, obligation };
  } catch (error) {
    if (isOAuthError(error) && error.code === 'access_denied') return { refused: error };
    throw error;
  }
}

/** A policy's refusal, recorded as the request's denial (its decision names the policy, not the person). */
async function denyByPolicy(deps: Deps, record: ApprovalRecord, sub: string, refused: OAuthError, now: number): Promise<void> {
  const result = await deps.store.approvals.decide(record.id, { approverSub: 'policy', decision: 'deny', decidedAt: now }, settle, now);
  await deps.receipts.record({ event: 'approval.decided',
    clientId: record.clientId,
    subject: sub,
    details: { approval: record.id, kind: 'device', decision: 'deny', approver: 'policy', reason: refused.reason ?? null, outcome: result.status === 'recorded' ? result.record.status : result.status },
  });
}

/** The person's answer; only the person who entered the code may give it (approver rule `subject`). `authentication`: their session's. */
export async function decideDeviceRequest(deps: Deps, id: string, person: { sub: string; claims: Record<string, unknown> }, decision: 'approve' | 'deny', authentication?: Authentication): Promise<Decision & { client?: ClientConfig | undefined }> {
  const record = id.length <= 64 ? await deps.store.approvals.find(id) : undefined;
  if (!record || record.kind !== 'device') return { status: 'not_found' };
  const outcome = await decideApproval(deps, id, approverFrom(person.sub, person.claims), decision, authentication);
  return { ...outcome, client: deps.config.clients.get(record.clientId) };
}
