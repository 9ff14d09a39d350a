// Who must approve a request that waits for people: until policies (config/policies/) decide it,
// the person represented. The policy module replaces this with its verdict (subject, manager, dual).
import type { ClientConfig } from '../config/schema.ts';
import type { Deps } from '../deps.ts';
import type { AuthorizationDetail } from '../oauth/authorization-details.ts';
import type { ApproverRule } from '../store/ports.ts';

export type ApprovalAsk = {
  client: ClientConfig;
  grant: 'ciba' | 'device_code' | 'token_exchange' | 'jwt_bearer';
  sub: string;
  claims: Readonly<Record<string, unknown>>;
  resource?: string | undefined;
  scopes: readonly string[];
  details: readonly AuthorizationDetail[];
};

export async function approversFor(_deps: Deps, _ask: ApprovalAsk): Promise<ApproverRule> {
  return { kind: 'subject' };
}
