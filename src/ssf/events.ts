// Receipts → SET drafts: which receipt kinds are security events, and for whom. Every draft names
// the subject and, for agents, the agent's client_id and the delegation's `did`, so a resource server
// can drop everything under it. A revocation that cascades emits one delegation-revoked per
// delegation it ended (found in the Passport lineage), never one per Passport.
// It reads receipts as they are and never writes; what a receipt does not say, it does not invent.
import type { AuditRecord, DelegationRecord } from '../store/ports.ts';
import { eventTypes, type EventType } from './event-types.ts';
import { complexSubject, opaqueSubject, passportSubject, personSubject, type SubjectId } from './subjects.ts';

export type SetDraft = { type: EventType; subId: SubjectId; event: Record<string, unknown> };

type Initiator = 'admin' | 'user' | 'policy' | 'system';

export type DraftContext = {
  issuer: string;
  /** Whether this id is a client (an agent acting for itself is represented by its client_id). */
  isClient(id: string): boolean;
  /** The delegations a revocation of these Passports or families ended as a whole. */
  delegationsUnder(roots: { jtis?: readonly string[]; familyIds?: readonly string[] }): Promise<DelegationRecord[]>;
};

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const reason = (en: string) => ({ reason_admin: { en } });

export async function draftsFor(record: AuditRecord, context: DraftContext): Promise<SetDraft[]> {
  const at = Math.floor(record.atMs / 1000);
  const { issuer } = context;
  const sub = text(record.subject);
  const clientId = text(record.clientId);
  const details = record.details;
  const user = (id: string | undefined) => (id !== undefined && !context.isClient(id) ? personSubject(issuer, id) : undefined);
  const common = (initiating_entity: Initiator, why: string) => ({ event_timestamp: at, initiating_entity, ...reason(why) });

  const delegationRevoked = (d: Pick<DelegationRecord, 'did' | 'sub' | 'clientId' | 'resource'>, initiator: Initiator, why: string): SetDraft => ({
    type: eventTypes.delegationRevoked,
    subId: complexSubject({ user: user(d.sub), application: opaqueSubject(d.clientId), delegation: opaqueSubject(d.did) }),
    event: { ...common(initiator, why), did: d.did, client_id: d.clientId, sub: d.sub, ...(d.resource !== undefined ? { resource: d.resource } : {}) },
  });
  const cascade = async (roots: { jtis?: string[]; familyIds?: string[] }, initiator: Initiator, why: string) =>
    (await context.delegationsUnder(roots)).map((d) => delegationRevoked(d, initiator, why));

  switch (record.event) {
    case 'session.ended': {
      if (sub === undefined) return [];
      const sid = text(details.sid);
      return [{ type: eventTypes.sessionRevoked, subId: complexSubject({ user: personSubject(issuer, sub), session: sid !== undefined ? opaqueSubject(sid) : undefined }), event: common('user', 'The person signed out') }];
    }
    case 'consent.withdrawn': {
      if (sub === undefined || clientId === undefined) return [];
      return [{ type: eventTypes.sessionRevoked, subId: complexSubject({ user: personSubject(issuer, sub), application: opaqueSubject(clientId) }), event: { ...common('user', 'The person withdrew consent'), client_id: clientId } }];
    }
    case 'family.revoked': {
      const family = text(details.family);
      if (family === undefined) return [];
      const reused = typeof details.reason === 'string' && details.reason.endsWith('_reused');
      const initiator: Initiator = reused ? 'policy' : 'user';
      const why = reused ? 'A refresh token was used twice: its whole family is revoked' : 'The refresh token was revoked';
      const session: SetDraft[] =
        sub === undefined || clientId === undefined
          ? []
          : [{ type: eventTypes.sessionRevoked, subId: complexSubject({ user: user(sub), application: opaqueSubject(clientId), session: opaqueSubject(family) }), event: { ...common(initiator, why), client_id: clientId } }];
      return [...session, ...(await cascade({ familyIds: [family] }, initiator, why))];
    }
    case 'passport.revoked': {
      const jti = text(record.tokenJti);
      if (jti === undefined) return [];
      const why = 'The Passport was revoked';
      return [
        { type: eventTypes.credentialChange, subId: passportSubject(issuer, jti), event: { ...common('user', why), credential_type: 'passport', change_type: 'revoke', ...(sub !== undefined ? { sub } : {}), ...(clientId !== undefined ? { client_id: clientId } : {}) } },
        ...(await cascade({ jtis: [jti] }, 'user', why)),
      ];
    }
    case 'delegation.revoked': {
      const did = text(details.did);
      if (did === undefined || sub === undefined || clientId === undefined) return [];
      const by = details.by;
      const initiator: Initiator = by === 'operator' ? 'admin' : 'user';
      const why = by === 'operator' ? 'An operator revoked the delegation' : by === 'owner' ? 'The agent\'s owner revoked the delegation' : 'The person revoked the delegation';
      return [delegationRevoked({ did, sub, clientId, resource: text(details.resource) }, initiator, why)];
    }
    case 'budget.consumed': {
      const did = text(details.did);
      if (details.spent !== true || did === undefined || sub === undefined || clientId === undefined) return [];
      return [{ type: eventTypes.budgetSpent, subId: complexSubject({ user: user(sub), application: opaqueSubject(clientId), delegation: opaqueSubject(did) }), event: { ...common('system', 'The delegation\'s budget is used up'), did, client_id: clientId, sub } }];
    }
    case 'agent.suspended':
    case 'agent.resumed':
    case 'agent.retired': {
      if (clientId === undefined) return [];
      const type = { 'agent.suspended': eventTypes.agentSuspended, 'agent.resumed': eventTypes.agentResumed, 'agent.retired': eventTypes.agentRetired }[record.event];
      const initiator: Initiator = typeof details.by === 'string' && details.by.startsWith('person:') ? 'user' : 'admin';
      const verb = record.event.slice('agent.'.length);
      return [{ type, subId: complexSubject({ application: opaqueSubject(clientId) }), event: { ...common(initiator, `The agent was ${verb}`), client_id: clientId } }];
    }
    default:
      return [];
  }
}
