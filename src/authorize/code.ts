// Issues an authorization code for a grant: the code is random and stored only hashed, short-lived,
// single use; its token family (every Passport and refresh token that will come from it) starts here
// so that a second redemption can revoke what the first one issued.
import type { Deps } from '../deps.ts';
import { hashId, randomId } from '../oauth/ids.ts';
import { toIssuedGrant, type PersonGrant } from '../grants/person-grant.ts';

export async function issueCode(deps: Deps, grant: PersonGrant): Promise<string> {
  const now = deps.now();
  const { code_ttl_seconds, refresh_family_max_seconds } = deps.config.main.authorization;
  const code = randomId();
  const familyId = randomId();
  const familyExpiresAt = now + refresh_family_max_seconds;
  await deps.store.families.createFamily({ id: familyId, clientId: grant.clientId, sub: grant.sub, createdAt: now, expiresAt: familyExpiresAt });
  // The family's end rides with the code, as it will with each refresh token (person-tokens.ts).
  await deps.store.authorizations.saveCode({ codeHash: hashId(code), clientId: grant.clientId, familyId, grant: { ...toIssuedGrant(grant), familyExpiresAt }, expiresAt: now + code_ttl_seconds });
  return code;
}
