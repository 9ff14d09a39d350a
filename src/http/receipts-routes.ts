// GET /receipts/checkpoint: the latest signed checkpoint of the receipt chain, so an auditor holding
// an export (consulate audit export) can tie it to this issuer's chain with nothing but the JWKS.
// A checkpoint is signed at most once per `receipts.checkpoint_seconds` per process and handed to
// everyone asking meanwhile; any node's checkpoint is as good as another's (one chain, one keyring).
// GET /receipts/<id>: one receipt and its explanation (audit/explain.ts) for whom it concerns
// (receipt-access.ts); registered after /receipts/checkpoint, which it would otherwise shadow.
import { Hono } from 'hono';
import { signLatestCheckpoint, type SignedCheckpoint } from '../audit/latest-checkpoint.ts';
import type { Deps } from '../deps.ts';
import { receiptRoutes } from './receipt-access.ts';

type Signed = SignedCheckpoint;

/** Kept with the keyring, which outlives config reloads: a reload does not force a new signature. */
const latest = new WeakMap<object, Promise<Signed | undefined>>();

export function receiptsRoutes(deps: Deps): Hono {
  const app = new Hono();
  const every = deps.config.main.receipts.checkpoint_seconds;

  const sign = (now: number) => signLatestCheckpoint(deps, now);

  app.get('/receipts/checkpoint', async (c) => {
    const now = deps.now();
    let current = latest.get(deps.keyring);
    const held = current && (await current.catch(() => undefined));
    if (!held || now - held.at >= every) {
      current = sign(now);
      latest.set(deps.keyring, current);
      // A failed signature (database away) is not kept: the next request tries again.
      current.catch(() => latest.delete(deps.keyring));
    }
    const signed = await current;
    c.header('Cache-Control', `public, max-age=${Math.max(0, every - (now - (signed?.at ?? now)))}`);
    if (!signed) return c.json({ error: 'not_found', error_description: 'the receipt chain is empty' }, 404);
    return c.json(signed.body);
  });
  receiptRoutes(app, deps);
  return app;
}
