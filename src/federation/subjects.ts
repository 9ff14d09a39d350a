// A person's latest canonical claims, as saved at their last sign-in (or first token exchange):
// what userinfo releases and what names them on approval pages. An unknown subject has none.
import type { Store } from '../store/ports.ts';

export async function latestClaimsOf(store: Pick<Store, 'subjects'>, sub: string): Promise<Record<string, unknown>> {
  return (await store.subjects.claimsOf(sub)) ?? {};
}
