import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/chain.ts';
import { uuidv7 } from '../../src/audit/ids.ts';

describe('receipt ids and canonical JSON', () => {
  it('uuidv7 ids carry version 7 and sort by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
  });
});

describe('uuidv7 layout (RFC 9562 §5.7)', () => {
  it('puts the 48-bit millisecond time first and keeps 74 random bits', () => {
    const id = uuidv7(0x0123456789ab);
    expect(id.startsWith('01234567-89ab-7')).toBe(true);
    expect(id[19]).toMatch(/[89ab]/);
    const others = new Set(Array.from({ length: 1000 }, () => uuidv7(0x0123456789ab)));
    expect(others.size).toBe(1000);
  });
});
