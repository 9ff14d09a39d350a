// A paused token exchange or JWT bearer request, approved: placeholder until policies land.
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { DpopBinding } from '../dpop/request.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { ApprovalRecord } from '../store/ports.ts';
import type { GrantResult } from './types.ts';

export async function issueApprovedExchange(_options: { deps: Deps; client: ClientConfig; record: ApprovalRecord; dpop?: DpopBinding | undefined; receipt: string; now: number }): Promise<GrantResult> {
  throw new OAuthError('invalid_grant', 'the auth_req_id is invalid or was issued to another client', { reason: 'exchange_approval_not_supported' });
}
