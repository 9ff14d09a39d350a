// An approver's inbox, a page at a time: newest first, `limit` requests (default 50, at most 200),
// the count of all of them, and an opaque cursor to the next page. The cursor names the last request
// of a page (created_at, id) and carries an HMAC under a server secret over the person and that
// position, so a cursor that was altered, made up, or made for someone else is refused (400
// invalid_request) rather than quietly paging from an arbitrary place.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { ApprovalRecord, InboxPosition, Store } from '../store/ports.ts';
import type { Approver } from './approvers.ts';

export const inboxPageSize = { default: 50, max: 200 } as const;

export type InboxOptions = { limit?: number | undefined; cursor?: string | undefined; excludeClientId?: string | undefined };

export type Inbox = { records: ApprovalRecord[]; total: number; nextCursor?: string | undefined };

const keys = new WeakMap<Store, Promise<Buffer>>();

/** The cursor key, shared by every node of the database (the first node's wins). */
function cursorKey(deps: Deps): Promise<Buffer> {
  let key = keys.get(deps.store);
  if (!key) {
    key = deps.store.secrets.getOrCreate('inbox-cursor', randomBytes(32).toString('base64url'), deps.now()).then((secret) => Buffer.from(secret, 'base64url'));
    key.catch(() => keys.delete(deps.store));
    keys.set(deps.store, key);
  }
  return key;
}

const mac = (key: Buffer, sub: string, payload: string): Buffer => createHmac('sha256', key).update(`inbox-cursor\n${sub}\n${payload}`).digest();

function badCursor(reason: string): OAuthError {
  return new OAuthError('invalid_request', 'the cursor is not valid; start again from the first page', { reason });
}

export async function encodeCursor(deps: Deps, sub: string, position: InboxPosition): Promise<string> {
  const payload = Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
  return `${payload}.${mac(await cursorKey(deps), sub, payload).toString('base64url')}`;
}

export async function decodeCursor(deps: Deps, sub: string, cursor: string): Promise<InboxPosition> {
  const match = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/.exec(cursor);
  if (!match) throw badCursor('cursor_malformed');
  const [, payload, tag] = match as unknown as [string, string, string];
  const expected = mac(await cursorKey(deps), sub, payload);
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw badCursor('cursor_forged');
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('cursor_malformed');
  }
  if (!Array.isArray(position) || position.length !== 2 || !Number.isSafeInteger(position[0]) || typeof position[1] !== 'string') throw badCursor('cursor_malformed');
  return { createdAt: position[0] as number, id: position[1] };
}

/** A `limit` parameter: absent is the default, above the maximum is the maximum, anything but a positive integer is refused. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return inboxPageSize.default;
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < 1) throw new OAuthError('invalid_request', `limit must be an integer from 1 to ${inboxPageSize.max}`, { reason: 'limit_malformed' });
  return Math.min(Number(value), inboxPageSize.max);
}

/** One page of the open requests this person may decide and has not decided yet, newest first. */
export async function inboxFor(deps: Deps, approver: Approver, options: InboxOptions = {}): Promise<Inbox> {
  const limit = Math.min(Math.max(1, options.limit ?? inboxPageSize.default), inboxPageSize.max);
  const after = options.cursor === undefined ? undefined : await decodeCursor(deps, approver.sub, options.cursor);
  const page = await deps.store.approvals.inboxPage(
    { sub: approver.sub, verifiedEmail: approver.emailVerified ? approver.email : undefined, groups: approver.groups },
    { now: deps.now(), limit, after, excludeClientId: options.excludeClientId },
  );
  return { records: page.records, total: page.total, ...(page.next ? { nextCursor: await encodeCursor(deps, approver.sub, page.next) } : {}) };
}
