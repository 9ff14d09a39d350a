// /admin/v1/receipts: the receipt chain in order (cursor: the last seq shown; `tail` starts at the
// most recent ones), one receipt, and its explanation (audit/explain.ts, as `consulate explain`).
// Reading receipts writes none.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { explainReceipt, receiptJson } from '../../audit/explain.ts';
import { findReceipt } from '../../audit/find.ts';
import type { Deps } from '../../deps.ts';
import { needs } from './operator-auth.ts';
import { notFoundProblem } from './problem.ts';
import { CursorQuery, decodeCursor, encodeCursor, errorResponses, json, LimitQuery, notFoundResponse, requires } from './schemas.ts';

const ReceiptSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    at: z.string().openapi({ description: 'ISO 8601 time it was written.' }),
    event: z.string(),
    client_id: z.string().optional(),
    subject: z.string().optional(),
    token_jti: z.string().optional(),
    details: z.record(z.string(), z.unknown()),
    hash: z.string().openapi({ description: 'Its hash in the chain (consulate audit verify).' }),
  })
  .openapi('Receipt');
const ReceiptPage = z.object({ receipts: z.array(ReceiptSchema), next_cursor: z.string().optional() }).openapi('ReceiptPage');
const ExplanationSchema = z
  .object({
    receipt: z.string(),
    event: z.string(),
    at: z.string(),
    outcome: z.enum(['issued', 'refused', 'pending', 'recorded']),
    summary: z.string(),
    decided: z.object({ step: z.string(), rule: z.string().optional() }).optional(),
    lines: z.array(z.string()),
  })
  .openapi('Explanation');
const ReceiptId = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' } }) });

/** Receipts after `afterSeq` in chain order; `tail`: the last `limit` ones. */
export async function listReceipts(deps: Deps, options: { afterSeq?: number | undefined; tail?: boolean; limit: number }) {
  let afterSeq = options.afterSeq ?? 0;
  if (options.tail && options.afterSeq === undefined) afterSeq = Math.max(0, ((await deps.store.audit.head())?.seq ?? 0) - options.limit);
  const records = await deps.store.audit.list({ afterSeq, limit: options.limit + 1 });
  const page = records.slice(0, options.limit);
  const last = page.at(-1);
  return { receipts: page.map(receiptJson), ...(records.length > page.length && last ? { next_cursor: encodeCursor({ seq: last.seq }) } : {}) };
}

async function receiptOr404(deps: Deps, id: string) {
  const record = await findReceipt(deps.store, id);
  if (!record) throw notFoundProblem(`no receipt ${id}`);
  return record;
}

export function receiptRoutes(app: OpenAPIHono, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/receipts', tags: ['receipts'], summary: 'List receipts', description: 'In chain order, oldest first; `tail=true` starts at the most recent `limit`.',
      security: requires('receipts:read'), middleware: [needs('receipts:read')] as const,
      request: {
        query: z.object({
          limit: LimitQuery,
          cursor: CursorQuery,
          tail: z.enum(['true', 'false']).default('false').openapi({ description: 'Start at the most recent receipts (ignored with a cursor).' }),
        }),
      },
      responses: { 200: json(ReceiptPage, 'One page of receipts.'), ...errorResponses },
    }),
    async (c) => {
      const { limit, cursor, tail } = c.req.valid('query');
      const afterSeq = decodeCursor(cursor, z.object({ seq: z.number().int().min(0) }))?.seq;
      return c.json(await listReceipts(deps, { afterSeq, tail: tail === 'true', limit }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/receipts/{id}', tags: ['receipts'], summary: 'Get a receipt', security: requires('receipts:read'), middleware: [needs('receipts:read')] as const,
      request: { params: ReceiptId },
      responses: { 200: json(ReceiptSchema, 'The receipt as chained.'), ...errorResponses, ...notFoundResponse },
    }),
    async (c) => c.json(receiptJson(await receiptOr404(deps, c.req.valid('param').id)), 200),
  );
  app.openapi(
    createRoute({
      method: 'get', path: '/receipts/{id}/explain', tags: ['receipts'], summary: 'Explain a receipt', description: 'Why a token was minted or refused, in words (as consulate explain).',
      security: requires('receipts:read'), middleware: [needs('receipts:read')] as const,
      request: { params: ReceiptId },
      responses: { 200: json(ExplanationSchema, 'The receipt in words.'), ...errorResponses, ...notFoundResponse },
    }),
    async (c) => c.json(explainReceipt(await receiptOr404(deps, c.req.valid('param').id)), 200),
  );
}
