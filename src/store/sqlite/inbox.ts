// An approver's inbox on SQLite: the approver rules of consent/approvers.ts (mayDecide) as one SQL
// condition over the stored rule (JSON), so that a page and its total are counted in the database
// and paged by key (created_at, id), never by offset. Must stay in step with mayDecide: the store
// conformance test compares the two.
import { sql, type SQL } from 'drizzle-orm';
import type { InboxApprover, InboxPosition, InboxQuery } from '../ports.ts';
import { approvalRequests as r } from './schema.ts';

/** The open requests this approver may decide and has not decided yet (and not the excluded client's). */
export function inboxCondition(approver: InboxApprover, query: InboxQuery): SQL {
  const rule = (path: string) => sql`json_extract(${r.approvers}, ${path})`;
  return sql`${r.status} = 'pending' AND ${r.expiresAt} > ${query.now}
    AND (
      (${rule('$.kind')} = 'subject' AND ${r.sub} = ${approver.sub})
      OR (${rule('$.kind')} = 'manager' AND lower(${rule('$.email')}) = ${approver.verifiedEmail ?? null})
      OR (${rule('$.kind')} = 'dual'
        AND ${rule('$.group')} IN (SELECT value FROM json_each(${JSON.stringify(approver.groups)}))
        AND (${r.sub} IS NULL OR ${r.sub} <> ${approver.sub})
        AND NOT EXISTS (SELECT 1 FROM json_each(${r.approvers}, '$.exclude') WHERE value = ${approver.sub}))
    )
    AND NOT EXISTS (SELECT 1 FROM approval_decisions WHERE approval_decisions.request_id = ${r.id} AND approval_decisions.approver_sub = ${approver.sub})
    ${query.excludeClientId === undefined ? sql`` : sql`AND ${r.clientId} <> ${query.excludeClientId}`}`;
}

/** Requests older than `position` in the inbox's order (created_at, id descending). */
export const olderThan = (position: InboxPosition): SQL => sql`(${r.createdAt}, ${r.id}) < (${position.createdAt}, ${position.id})`;
