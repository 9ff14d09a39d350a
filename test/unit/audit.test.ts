import { describe, expect, it } from 'vitest';
import { canonicalJson, recordJson } from '../../src/audit/chain.ts';
import { uuidv7 } from '../../src/oauth/ids.ts';

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

describe('the chain hash', () => {
  const canon = canonicalJson;
  // The reference: the canonical JSON as first defined (entries filtered, sorted, joined).
  const reference = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
    if (value && typeof value === 'object') {
      const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    }
    return JSON.stringify(value);
  };
  const samples: Record<string, unknown>[] = [
    {},
    { b: 1, a: [1, 'x', null, true, { z: { y: [] } }], 'é': 'ü', '\u2028': '"\\', A: undefined, _: 0.5, Z: -0 },
    { nested: { deep: { deeper: [[1, 2], { b: 2, a: 1 }] } }, emoji: '🔑', number: 1e21 },
  ];
  it.each(samples)('canonical JSON is unchanged from the first definition (%#)', (details) => {
    expect(canon(details)).toBe(reference(details));
  });
  it('a record\'s hashed text is the canonical JSON of its fields, with and without the optional ones', () => {
    for (const details of samples) {
      const full = { id: 'r-1', atMs: 1_700_000_000_000, event: 'passport.issued', clientId: 'c"1', subject: 'ü', tokenJti: 'j', details };
      const bare = { id: 'r-2', atMs: 1, event: 'config.reloaded', details };
      for (const record of [full, bare]) expect(recordJson(record, canon(details))).toBe(reference(record));
    }
  });
});
