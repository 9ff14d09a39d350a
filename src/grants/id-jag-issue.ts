// ID-JAG issuance (draft-ietf-oauth-identity-assertion-authz-grant): placeholder until it lands.
import type { ClientConfig } from '../config/schema.ts';
import type { SubjectToken } from '../delegation/subject-token.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import type { GrantResult } from './types.ts';

export type IdJagRequest = { deps: Deps; client: ClientConfig; subject: SubjectToken; params: Params; now: number; receipt: string };

export async function issueIdJag(_request: IdJagRequest): Promise<GrantResult> {
  throw new OAuthError('invalid_request', 'requested_token_type is not supported', { reason: 'id_jag_not_enabled' });
}
