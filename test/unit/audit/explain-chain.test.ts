// explain's chain on hand-made receipts: back through subject_receipt links, newest first, ending
// at another issuer's receipt; a receipt named but absent is reported, a loop is followed once, and
// a receipt with no link has no chain.
import { describe, expect, it } from 'vitest';
import { chainWords, explainChain } from '../../../src/audit/explain-chain.ts';
import type { AuditRecord } from '../../../src/store/ports.ts';

const id = (n: number) => `01938000-0000-7000-8000-00000000000${n}`;
const record = (n: number, details: Record<string, unknown>, over: Partial<AuditRecord> = {}): AuditRecord => ({ id: id(n), atMs: Date.UTC(2026, 11, 7, 9, 0, n), event: 'passport.exchanged', clientId: `agent-${n}`, subject: 'p-1', details: { aud: 'https://tasks.example', ...details }, seq: n, prevHash: '0'.repeat(64), hash: 'f'.repeat(64), ...over });
const finder = (records: AuditRecord[]) => async (wanted: string) => records.find((r) => r.id === wanted);

describe('explain chain', () => {
  it('follows subject_receipt back, newest first, and stops at the assertion of another issuer', async () => {
    const redeemed = record(2, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion_kind: 'id-jag', assertion_issuer: 'a', assertion_iss: 'https://a.example', assertion_receipt: 'r-at-a' }, { event: 'passport.issued' });
    const exchanged = record(3, { subject_origin: 'passport', subject_receipt: id(2) });
    const chain = await explainChain(exchanged, finder([redeemed, exchanged]), async (r) => ({ person: r.subject === 'p-1' ? 'alice@example.com' : undefined }));
    expect(chain.earlier.map((e) => [e.receipt, e.event])).toEqual([[id(2), 'passport.issued']]);
    expect(chain.earlier[0]?.summary).toBe('Passport issued to agent-2 for alice@example.com (sub p-1) at https://tasks.example (JWT bearer)');
    expect(chain.elsewhere).toEqual({ issuer: 'https://a.example', trusted_as: 'a', kind: 'id-jag', receipt: 'r-at-a' });
    expect(chainWords(chain).at(-2)).toBe('  ← an ID-JAG issued by https://a.example (trusted issuer a), its receipt there: r-at-a');
  });

  it('reports a receipt it cannot find, follows a loop once, and has nothing to say without links', async () => {
    const orphan = record(4, { subject_receipt: id(9) });
    expect(await explainChain(orphan, finder([orphan]))).toEqual({ earlier: [], missing: id(9) });
    const first = record(5, { subject_receipt: id(6) });
    const second = record(6, { subject_receipt: id(5) });
    expect((await explainChain(first, finder([first, second]))).earlier.map((e) => e.receipt)).toEqual([id(6)]);
    const alone = record(7, {});
    expect(await explainChain(alone, finder([alone]))).toEqual({ earlier: [] });
    expect(chainWords({ earlier: [] })).toEqual([]);
  });
});
