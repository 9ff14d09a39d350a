// A SET (RFC 8417) as it leaves: the stored claims signed with the Passport signing key, typed
// `secevent+jwt` (SSF 1.0 §4.1.1). Signed when sent, not when made, so a SET that waited through a
// key rotation is signed with a key that is still published.
import type { Deps } from '../deps.ts';
import { signJwt } from '../passports/sign.ts';

export const setType = 'secevent+jwt';

export async function signSet(deps: Pick<Deps, 'keyring' | 'config' | 'now'>, claims: Record<string, unknown>): Promise<string> {
  const key = await deps.keyring.signingKey(deps.config.main.passports.signing_alg, deps.now());
  return signJwt(key, setType, claims);
}
