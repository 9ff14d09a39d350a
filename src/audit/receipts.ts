// Receipts: the one way services append to the audit chain. Event kinds are a closed union, so a
// typo is a compile error, and times come from the injected clock. A receipt resolves once it is
// committed: the store may group several into one transaction, but never acknowledges one early.
import type { AuditRecord, AuditStore } from '../store/ports.ts';
import { uuidv7 } from '../oauth/ids.ts';

export type ReceiptEvent =
  | 'passport.issued'
  | 'passport.exchanged'
  | 'passport.denied'
  | 'passport.paused'
  | 'passport.revoked'
  | 'id_jag.issued'
  | 'family.revoked'
  | 'authorization.granted'
  | 'login.upstream'
  | 'login.denied'
  | 'exchange.upstream_subject'
  | 'exchange.upstream_denied'
  | 'session.ended'
  | 'client.registered'
  | 'config.reloaded'
  | 'agent.suspended'
  | 'agent.resumed'
  | 'agent.retired'
  | 'delegation.revoked'
  | 'budget.consumed'
  | 'budget.refused'
  | 'approval.requested'
  | 'approval.claimed'
  | 'approval.decided'
  | 'approval.cancelled'
  | 'keys.rotated'
  | 'rate_limit.reached'
  | 'consent.withdrawn'
  | 'pat.created'
  | 'pat.revoked'
  | 'ssf.delivery_failed';

export type Receipt = {
  event: ReceiptEvent;
  clientId?: string | undefined;
  subject?: string | undefined;
  tokenJti?: string | undefined;
  details: Record<string, unknown>;
};

export type Receipts = {
  /** A fresh receipt id, for a Passport that names its receipt before the receipt is written. */
  newId(): string;
  /** Appends the receipt (under `id` when given); resolves once it is committed. */
  record(receipt: Receipt, id?: string): Promise<AuditRecord>;
};

/**
 * `clockMs`: epoch milliseconds; tests pass a fixed clock. `onCommitted`: told of each receipt once it
 * is committed (the SSF feed wakes on it), so audit/ knows nothing of who listens; it must not throw.
 */
export function createReceipts(audit: AuditStore, clockMs: () => number = Date.now, onCommitted?: (record: AuditRecord) => void): Receipts {
  return {
    newId: () => uuidv7(clockMs()),
    record: (receipt, id) => {
      const atMs = clockMs();
      // A literal, not { ...receipt, id, atMs }: adding to a spread-made object costs ~1 µs a property.
      const { event, clientId, subject, tokenJti, details } = receipt;
      const appended = audit.append({ id: id ?? uuidv7(atMs), atMs, event, clientId, subject, tokenJti, details });
      return onCommitted ? appended.then((record) => (onCommitted(record), record)) : appended;
    },
  };
}
