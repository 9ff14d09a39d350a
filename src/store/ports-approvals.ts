// The store port of approval requests (CIBA, device, paused exchanges) and the inbox: re-exported
// by ports.ts, where the rest of the store's ports are.

export type ApprovalKind = 'ciba' | 'device' | 'exchange';
/** Expiry is not a status: a request past its expiresAt is expired whatever its status says. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'issued';

/** Who must approve, with the people resolved when the request was made. */
export type ApproverRule =
  | { kind: 'subject' }
  | { kind: 'manager'; email: string }
  | { kind: 'dual'; group: string; exclude: string[] };

export type ApprovalDecision = { approverSub: string; approverEmail?: string | undefined; decision: 'approve' | 'deny'; decidedAt: number };

export type ApprovalRecord = {
  id: string;
  kind: ApprovalKind;
  clientId: string;
  sub?: string | undefined;
  /** What was asked and what will be issued; the service owns its shape. */
  request: Record<string, unknown>;
  approvers: ApproverRule;
  status: ApprovalStatus;
  intervalSeconds: number;
  lastPolledAt?: number | undefined;
  createdAt: number;
  expiresAt: number;
  decidedAt?: number | undefined;
  decisions: ApprovalDecision[];
};

export type NewApproval = Omit<ApprovalRecord, 'status' | 'lastPolledAt' | 'decidedAt' | 'decisions'> & { pollHash: string; userCodeHash?: string | undefined };

export type Poll = { status: 'unknown' } | { status: 'ok' | 'slow_down'; record: ApprovalRecord };

export type Decided = { status: 'unknown' | 'closed' | 'duplicate' } | { status: 'recorded'; record: ApprovalRecord };

/** Whom an inbox is for, as the approver rules match them: an e-mail only when it is verified, lower-cased. */
export type InboxApprover = { sub: string; verifiedEmail?: string | undefined; groups: readonly string[] };

/** A place in an inbox, newest first: the last request of a page. */
export type InboxPosition = { createdAt: number; id: string };

export type InboxQuery = {
  now: number;
  limit: number;
  /** The page after this request (keyset); absent: the first page. */
  after?: InboxPosition | undefined;
  /** Leave out this client's requests (a client never decides its own). */
  excludeClientId?: string | undefined;
};

/** One page of an inbox, `total` the number of requests in it, `next` the position to continue from (absent on the last page). */
export type InboxPage = { records: ApprovalRecord[]; total: number; next?: InboxPosition | undefined };

/** The most requests one person may have waiting (pending, unexpired): from one client, and in all. */
export type PendingLimits = { perClientAndPerson: number; perPerson: number };

export type ApprovalStore = {
  /**
   * Opens a request; with `limits` and a person, only while that person has fewer pending requests
   * than the limits allow (from this client, and in all), decided atomically. False: nothing opened.
   */
  create(record: NewApproval, limits?: PendingLimits): Promise<boolean>;
  find(id: string): Promise<ApprovalRecord | undefined>;
  findByUserCode(userCodeHash: string, now: number): Promise<ApprovalRecord | undefined>;
  /**
   * Records a poll by the client that owns the request. A poll sooner than the interval after the
   * last one is `slow_down`, and the interval grows by 5 s for good (CIBA §11, RFC 8628 §3.5).
   */
  poll(pollHash: string, clientId: string, now: number): Promise<Poll>;
  /** Sets the person of a request that has none yet (device flow), and with `request` its request; false when it already has one or is closed. */
  claim(id: string, sub: string, now: number, request?: Record<string, unknown>, approvers?: ApproverRule): Promise<boolean>;
  /**
   * Adds one person's decision and settles the request, atomically: `settle` (pure) says what the
   * decisions so far amount to. A closed or expired request takes no more decisions.
   */
  decide(id: string, decision: ApprovalDecision, settle: (record: ApprovalRecord) => 'approved' | 'denied' | 'pending', now: number): Promise<Decided>;
  /** approved → issued, for exactly one caller. */
  markIssued(id: string, now: number): Promise<boolean>;
  /** Requests still open (pending, unexpired), oldest first. */
  listOpen(now: number, limit?: number): Promise<ApprovalRecord[]>;
  /**
   * One page of an approver's inbox: the open requests the approver rules let them decide (as
   * consent/approvers.ts mayDecide says) and that they have not decided yet, newest first by
   * (createdAt, id), with the count of all of them. Keyset paging: a request opened meanwhile lands
   * on the first page and never shifts a later one.
   */
  inboxPage(approver: InboxApprover, query: InboxQuery): Promise<InboxPage>;
  purgeExpired(now: number): Promise<number>;
  /**
   * For metrics, in one query: per kind, the requests open now (pending, unexpired) and those that
   * expired undecided in (expiredAfter, now].
   */
  countByKind(now: number, expiredAfter: number): Promise<ApprovalCounts[]>;
};

export type ApprovalCounts = { kind: ApprovalKind; pending: number; expired: number };
