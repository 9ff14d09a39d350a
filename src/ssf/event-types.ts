// The event types Consulate sends as SETs: CAEP 1.0 where one fits, its own (URNs under
// urn:consulate:secevent) for agents and delegations, and the two SSF 1.0 stream events.
// Names only: what each carries is decided in events.ts, from the receipt behind it.

const caep = 'https://schemas.openid.net/secevent/caep/event-type';
const ours = 'urn:consulate:secevent:event-type';

export const eventTypes = {
  /** CAEP §3.1: a person's session (a sign-in, a refresh token family, a consent) ended. */
  sessionRevoked: `${caep}/session-revoked`,
  /** CAEP §3.3: a Passport was revoked (credential_type "passport", change_type "revoke"). */
  credentialChange: `${caep}/credential-change`,
  /** A delegation ended: every Passport carrying its `did` is void. One per delegation, also in a cascade. */
  delegationRevoked: `${ours}:delegation-revoked`,
  /** A delegation's budget is used up: its Passports stop introspecting active. */
  budgetSpent: `${ours}:budget-spent`,
  /** An agent was suspended: it gets nothing, and Passports with it as client or in `act` stop working. */
  agentSuspended: `${ours}:agent-suspended`,
  /** A suspended agent was resumed. */
  agentResumed: `${ours}:agent-resumed`,
  /** An agent was retired, for good. */
  agentRetired: `${ours}:agent-retired`,
} as const;

export type EventType = (typeof eventTypes)[keyof typeof eventTypes];

/** SSF 1.0 §8.1.4 and §8.1.5: sent whatever a stream asked for. */
export const streamEventTypes = {
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  streamUpdated: 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;

/** `events_supported` of every stream. */
export const supportedEventTypes: readonly string[] = Object.values(eventTypes);
