// Reading stored delegations for the person's account page: one by its did, and the live ones
// (not revoked; the store already leaves out the expired) of a person or of a set of agents.
import type { DelegationRecord, Store } from '../store/ports.ts';

export const findDelegation = (store: Pick<Store, 'delegations'>, did: string): Promise<DelegationRecord | undefined> => store.delegations.find(did);

export async function liveDelegations(store: Pick<Store, 'delegations'>, filter: { sub: string } | { clientIds: readonly string[] }, now: number): Promise<DelegationRecord[]> {
  return (await store.delegations.list(filter, now)).filter((r) => r.revokedAt === undefined);
}
