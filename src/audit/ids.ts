// Time-ordered UUIDv7 ids (RFC 9562 §5.7) for receipts: they sort by creation and keep inserts flat.
// The random part comes from randomUUID(), which draws from a cached entropy pool (a fresh
// randomBytes() call per id showed in issuance profiles): its version-4 layout already has the
// variant bits of §5.7, so only the 48-bit time and the version nibble are written over it.
import { randomUUID } from 'node:crypto';

export function uuidv7(nowMs: number = Date.now()): string {
  const random = randomUUID();
  const time = Math.trunc(nowMs).toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
