// The admin API's shared zod schemas (they validate requests and make the OpenAPI document), the
// security scheme, and opaque list cursors (base64url JSON of the last item's position).
import { z } from '@hono/zod-openapi';
import type { AdminScope } from '../../config/admin-schema.ts';
import { badRequestProblem, problemType } from './problem.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details.' });

const problem = (description: string) => ({ description, content: { [problemType]: { schema: ProblemSchema } } });

/** The error answers every protected operation may give. */
export const errorResponses = {
  400: problem('The request does not match the schema (the issues are listed in `errors`).'),
  401: problem('No Passport, or one that is invalid, expired, revoked or for another resource (WWW-Authenticate: Bearer error="invalid_token").'),
  403: problem('The Passport lacks the scope this operation needs (WWW-Authenticate: Bearer error="insufficient_scope", scope=...).'),
} as const;
export const notFoundResponse = { 404: problem('No such item.') } as const;
export const conflictResponse = { 409: problem('The change is not possible in the item\'s current state.') } as const;

export const securityScheme = 'passport';
/** An operation's security requirement: a Passport carrying `scope`. */
export const requires = (scope: AdminScope) => [{ [securityScheme]: [scope] }];

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export const LimitQuery = z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'The most items in one page.' });
export const CursorQuery = z.string().max(500).optional().openapi({ description: 'The `next_cursor` of the previous page; absent for the first page.' });

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor stands for, checked by `shape`; a cursor that is not one of ours is a 400. */
export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.output<T> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = shape.safeParse(parsed);
  if (!result.success) throw badRequestProblem('the cursor is not one this API gave out', { errors: [{ path: 'cursor', code: 'invalid_cursor', message: 'not a cursor of this list' }] });
  return result.data;
}
