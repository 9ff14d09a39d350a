// Receipts: group-committed appends keep one hash chain in the order they were made, and two
// writers on one database (the server and the CLI, or two nodes) never fork it: on every backend
// (./backends.ts). SQLite only: a refused receipt fails alone and a failed commit fails exactly the
// receipts in it (PostgreSQL writes a batch as one INSERT: see postgres.test.ts), a writer killed
// mid-batch loses nothing it acknowledged, and a 100,000-record chain verifies.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findChainBreak } from '../../../src/audit/chain.ts';
import { createReceipts, type Receipt } from '../../../src/audit/receipts.ts';
import type { AuditRecord, Store } from '../../../src/store/ports.ts';
import { openSqliteStore } from '../../../src/store/sqlite/open.ts';
import { forEachBackend } from './backends.ts';
import { wholeChain } from '../../support/chain.ts';

const issued = (i: number): Receipt => ({ event: 'passport.issued', clientId: 'bot', tokenJti: `jti-${i}`, details: { i } });

forEachBackend('receipts (group commit)', (backend) => {
  it('receipts appended in the same turn form one gapless chain, in the order they were made', async () => {
    const receipts = createReceipts(backend.store.audit);
    const records = await Promise.all(Array.from({ length: 300 }, (_, i) => receipts.record(issued(i))));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(records.map((r) => r.details.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const stored = await wholeChain(backend.store);
    expect(stored).toHaveLength(300);
    expect(findChainBreak(stored)).toBe(-1);
    expect(stored.map((r) => r.hash)).toEqual(records.map((r) => r.hash));
  });

  it('a batch keeps every field as written: quotes, backslashes, braces, commas, "NULL", non-ASCII, and absent fields', async () => {
    const receipts = createReceipts(backend.store.audit, () => 1_700_000_000_000);
    const odd = ['"quoted"', 'back\\slash', '{braced,comma}', 'NULL', 'ünïcødé ✓', ''];
    const made = await Promise.all([
      ...odd.map((text, i) => receipts.record({ event: 'passport.issued', clientId: text, subject: `${text}-sub`, tokenJti: `${text}-${i}`, details: { text, i } })),
      receipts.record({ event: 'passport.issued', details: { none: null } }),
    ]);
    const stored = await wholeChain(backend.store);
    expect(findChainBreak(stored)).toBe(-1);
    expect(stored.map((r) => [r.clientId, r.subject, r.tokenJti, r.details])).toEqual([
      ...odd.map((text, i) => [text, `${text}-sub`, `${text}-${i}`, { text, i }]),
      [undefined, undefined, undefined, { none: null }],
    ]);
    expect(stored.map((r) => r.hash)).toEqual(made.map((r) => r.hash));
  });

  it('a receipt under a given id keeps it, and the injected clock dates it', async () => {
    const receipts = createReceipts(backend.store.audit, () => 1_700_000_000_123);
    const id = receipts.newId();
    const record = await receipts.record(issued(1), id);
    expect(record).toMatchObject({ id, atMs: 1_700_000_000_123 });
    expect((await backend.store.audit.list())[0]).toMatchObject({ id, atMs: 1_700_000_000_123, event: 'passport.issued', tokenJti: 'jti-1' });
  });

  it('two writers on one database (the server and the CLI, two nodes) extend one chain, never fork it', async () => {
    const other = await backend.open();
    const a = createReceipts(backend.store.audit);
    const b = createReceipts(other.audit);
    for (let wave = 0; wave < 5; wave++) {
      await Promise.all([...Array.from({ length: 30 }, (_, i) => a.record(issued(wave * 100 + i))), ...Array.from({ length: 30 }, (_, i) => b.record(issued(wave * 100 + 50 + i)))]);
    }
    const chain = await wholeChain(backend.store);
    expect(chain).toHaveLength(300);
    expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(findChainBreak(chain)).toBe(-1);
  });
});

describe('receipts (group commit, SQLite only)', () => {
  let dir: string;
  let file: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'consulate-receipts-'));
    file = join(dir, 'consulate.db');
    store = openSqliteStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a receipt the database refuses fails alone: its neighbours in the batch are committed, the chain goes on', async () => {
    const receipts = createReceipts(store.audit);
    await receipts.record(issued(0));
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER refuse_13 BEFORE INSERT ON audit_records WHEN json_extract(NEW.details, '$.i') = 13 BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const batch = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => receipts.record(issued(i + 1))));
    raw.close();
    expect(batch.map((r) => r.status === 'rejected')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1 === 13));
    const chain = await wholeChain(store);
    expect(chain.map((r) => r.details.i)).toEqual([0, ...Array.from({ length: 20 }, (_, i) => i + 1).filter((i) => i !== 13)]);
    expect(findChainBreak(chain)).toBe(-1);
  });

  it('a batch whose commit fails (a lock held elsewhere) fails every receipt in it and stores none; the next batch goes on', async () => {
    await store.close();
    store = openSqliteStore(file, { busyTimeoutMs: 50 });
    const receipts = createReceipts(store.audit);
    await receipts.record(issued(0));
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const batch = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => receipts.record(issued(i + 1))));
    expect(batch.every((r) => r.status === 'rejected' && /locked|busy/i.test(String(r.reason)))).toBe(true);
    other.exec('ROLLBACK');
    other.close();
    const after = await Promise.all(Array.from({ length: 3 }, (_, i) => receipts.record(issued(100 + i))));
    expect(after.map((r) => r.seq)).toEqual([2, 3, 4]);
    const chain = await wholeChain(store);
    expect(chain.map((r) => r.details.i)).toEqual([0, 100, 101, 102]);
    expect(findChainBreak(chain)).toBe(-1);
  });

  it('a writer killed mid-batch loses no receipt it acknowledged, and leaves an intact chain', async () => {
    await store.close();
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'fixtures/append-receipts.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let buffered = '';
    await new Promise<void>((done, failed) => {
      child.on('error', failed);
      child.on('exit', () => done());
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        acknowledged.push(...lines);
        if (acknowledged.length >= 2_000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(child.signalCode).toBe('SIGKILL');
    store = openSqliteStore(file);
    const chain = await wholeChain(store);
    expect(findChainBreak(chain)).toBe(-1);
    const stored = new Set(chain.map((r) => r.id));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    expect(chain.length).toBeGreaterThanOrEqual(acknowledged.length);
  });

  it('a chain of 100,000 receipts verifies, and one altered record is found where it is', async () => {
    const receipts = createReceipts(store.audit);
    for (let wave = 0; wave < 100; wave++) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => receipts.record(issued(wave * 1000 + i))));
    }
    const chain = await wholeChain(store);
    expect(chain).toHaveLength(100_000);
    expect(findChainBreak(chain)).toBe(-1);
    const raw = new Database(file);
    raw.prepare(`UPDATE audit_records SET details = '{"i":-1}' WHERE seq = 54321`).run();
    raw.close();
    expect(findChainBreak(await wholeChain(store))).toBe(54_320);
  }, 120_000);
});
