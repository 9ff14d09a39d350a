// The whole receipt chain of a store, in order, for tests that check it end to end.
import { storedRecords } from '../../src/audit/verify.ts';
import type { AuditRecord, Store } from '../../src/store/ports.ts';

export async function wholeChain(store: Pick<Store, 'audit'>): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  for await (const record of storedRecords(store.audit, { pageSize: 10_000 })) all.push(record);
  return all;
}
