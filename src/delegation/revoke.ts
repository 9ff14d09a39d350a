// Revoking a delegation, for whoever may: the person it represents (subject), the owner of the agent
// it was made to (owner), or an operator. The store revokes it and every Passport minted under it,
// down the whole lineage; this writes the audit record beside it. It does not decide who may revoke
// what: the account page checks subject or owner before calling, the CLI is the operator.
// 1 find  2 revoke in the store  3 audit record.
import type { Receipts } from '../audit/receipts.ts';
import type { DelegationRecord, Store } from '../store/ports.ts';

export type RevokedBy = 'subject' | 'owner' | 'operator';

/** Who acted, for the audit record: the person's local subject id, or the operator (operator:<client_id>, operator:cli:<user>). */
export type RevokingActor = { sub?: string | undefined; operator?: string | undefined };

export type RevokeOutcome =
  | { status: 'revoked'; record: DelegationRecord }
  | { status: 'already_revoked'; record: DelegationRecord }
  | { status: 'unknown' };

export async function revokeDelegation(
  store: Pick<Store, 'delegations'>,
  receipts: Receipts,
  did: string,
  by: RevokedBy,
  actor: RevokingActor,
  now: number,
): Promise<RevokeOutcome> {
  // 1.
  const record = await store.delegations.find(did);
  if (!record) return { status: 'unknown' };
  if (record.revokedAt !== undefined) return { status: 'already_revoked', record };
  // 2. False: someone else revoked it in between; theirs is the record that counts.
  if (!(await store.delegations.revoke(did, by, now))) return { status: 'already_revoked', record: (await store.delegations.find(did)) ?? record };
  // 3.
  await receipts.record({ event: 'delegation.revoked',
    clientId: record.clientId,
    subject: record.sub,
    details: {
      did,
      by,
      ...(actor.sub !== undefined ? { actor_sub: actor.sub } : {}),
      ...(actor.operator !== undefined ? { operator: actor.operator } : {}),
      ...(record.resource !== undefined ? { resource: record.resource } : {}),
      origin: record.origin,
    },
  });
  return { status: 'revoked', record: { ...record, revokedAt: now, revokedBy: by } };
}
