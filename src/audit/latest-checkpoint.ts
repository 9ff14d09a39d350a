// The checkpoint of the receipt chain as it stands now: its head, signed with the current Passport
// signing key (checkpoint.ts). Undefined while the chain is empty. Holding one for a while is the
// caller's business (http/receipts-routes.ts signs at most once per receipts.checkpoint_seconds).
import type { Deps } from '../deps.ts';
import { signCheckpoint } from './checkpoint.ts';

export type SignedCheckpoint = { body: { checkpoint: string; seq: number; hash: string; iat: number }; at: number };

export async function signLatestCheckpoint(deps: Pick<Deps, 'store' | 'keyring' | 'config' | 'issuer'>, now: number): Promise<SignedCheckpoint | undefined> {
  const head = await deps.store.audit.head();
  if (!head) return undefined;
  const key = await deps.keyring.signingKey(deps.config.main.passports.signing_alg, now);
  return { body: { checkpoint: signCheckpoint(key, deps.issuer, head, now), ...head, iat: now }, at: now };
}
