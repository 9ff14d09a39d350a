// One receipt by its id, for whom it concerns (http/receipt-access.ts decides who that is). An id
// that is not a receipt id's shape is answered like an unknown one, without asking the store.
import type { Store } from '../store/ports.ts';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function findReceipt(store: Pick<Store, 'audit'>, id: string) {
  return uuidShape.test(id) ? store.audit.find(id) : undefined;
}
