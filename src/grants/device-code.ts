// The device authorization grant (RFC 8628 §3.4–3.5, urn:ietf:params:oauth:grant-type:device_code):
// the device polls with its device_code until the person who entered the user code has decided;
// authorization_pending, slow_down, access_denied and expired_token come from the shared polling.
import { deviceCodeGrant as deviceCodeGrantType } from '../oauth/grant-types.ts';
import { OAuthError } from '../oauth/errors.ts';
import { issueApprovedPersonTokens, pollApproval } from './approved-request.ts';
import type { Grant, GrantContext } from './types.ts';
import type { PersonTokenDeps } from './person-tokens.ts';

export const deviceCodeGrant: Grant = {
  grantType: deviceCodeGrantType,
  params: ['device_code'],
  async handle({ deps, client: { client }, params, now, receipt, dpop, trail }: GrantContext<PersonTokenDeps>) {
    trail.at = 'parameters';
    const deviceCode = params.get('device_code');
    if (deviceCode === undefined) throw new OAuthError('invalid_request', 'device_code is required');
    const record = await pollApproval(deps, client, deviceCode, ['device'], 'device_code', now, undefined, trail);
    return issueApprovedPersonTokens({ deps, client, record, grantType: 'device_code', dpop, receipt, now, trail });
  },
};
