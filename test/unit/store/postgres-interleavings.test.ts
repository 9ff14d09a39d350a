// The PostgreSQL store's locks, interleaving by interleaving: a raw connection stands for another
// node caught in the middle of its transaction (it holds the locks that node's code takes), the store
// under test runs its own step, and must wait for the other node and then not miss what it did.
// Without the lock on either side, the step would finish at once and miss the other node's write.
import pg from 'pg';
import { expect, it } from 'vitest';
import { settle } from '../../../src/consent/approvers.ts';
import { lockClass } from '../../../src/store/postgres/transaction.ts';
import { forEachBackend } from './backends.ts';

forEachBackend('another node in the middle of its transaction', (backend) => {
  const now = 1_800_000_000;
  // Only PostgreSQL has other nodes' transactions to interleave with.
  const pgIt = it.runIf(backend.kind === 'postgres');

  /** Runs `first` on a raw connection, inside an open transaction, then `step` (the store under test); commits after `holdMs`. */
  async function whileOpen<T>(first: (client: pg.Client) => Promise<void>, step: () => Promise<T>, holdMs = 300): Promise<{ result: T; waited: boolean }> {
    const client = new pg.Client({ connectionString: backend.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await first(client);
      let settled = false;
      const running = step().finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      const waited = !settled;
      await client.query('COMMIT');
      return { result: await running, waited };
    } finally {
      await client.end();
    }
  }

  const family = () => backend.store.families.createFamily({ id: 'f', clientId: 'c', sub: 'p', createdAt: now, expiresAt: now + 3600 });

  pgIt('a Passport added while the family is being revoked is revoked at once', async () => {
    await family();
    const { waited } = await whileOpen(
      async (c) => void (await c.query('UPDATE token_families SET revoked_at = $1 WHERE id = $2', [now, 'f'])),
      () => backend.store.families.addPassport('f', 'late', now + 600, now),
    );
    expect(waited).toBe(true);
    expect(await backend.store.revocations.isRevoked('late')).toBe(true);
  });

  pgIt('a family revoked while a Passport is being added revokes that Passport', async () => {
    await family();
    const { waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT 1 FROM token_families WHERE id = $1 FOR SHARE', ['f']);
        await c.query('INSERT INTO family_passports (family_id, jti, expires_at) VALUES ($1, $2, $3)', ['f', 'adding', now + 600]);
      },
      () => backend.store.families.revokeFamily('f', now),
    );
    expect(waited).toBe(true);
    expect(await backend.store.revocations.isRevoked('adding')).toBe(true);
  });

  pgIt('a Passport exchanged from one whose revocation is committing is revoked at once', async () => {
    const { waited } = await whileOpen(
      async (c) => {
        await c.query('INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)', ['parent', 'c', now + 600, now]);
        await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockClass.passport, 'parent']);
      },
      () => backend.store.lineage.record({ jti: 'child', parentJti: 'parent', clientId: 'agent', sub: 'p', expiresAt: now + 600 }, now),
    );
    expect(waited).toBe(true);
    expect(await backend.store.revocations.isRevoked('child')).toBe(true);
  });

  pgIt('a revocation walking the tree while a child is being linked revokes that child', async () => {
    await backend.store.revocations.revoke('parent', 'c', now + 600, now);
    const { result, waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT pg_advisory_xact_lock_shared($1::int, hashtext($2))', [lockClass.passport, 'parent']);
        await c.query('INSERT INTO passport_links (jti, parent_jti, did, client_id, sub, expires_at) VALUES ($1, $2, NULL, $3, $4, $5)', ['linking', 'parent', 'agent', 'p', now + 600]);
      },
      () => backend.store.lineage.revokeDescendants(['parent'], now),
    );
    expect(waited).toBe(true);
    expect(result).toBe(1);
    expect(await backend.store.revocations.isRevoked('linking')).toBe(true);
  });

  pgIt('a deep link made under a Passport the walk itself revokes is not missed', async () => {
    // parent → a (linked), then another node links b under a while the walk runs.
    await backend.store.revocations.revoke('parent', 'c', now + 600, now);
    await backend.store.lineage.record({ jti: 'a', parentJti: 'parent', clientId: 'agent', sub: 'p', expiresAt: now + 600 }, now - 1);
    expect(await backend.store.revocations.isRevoked('a')).toBe(true); // linked after its parent's revocation
    const { waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT pg_advisory_xact_lock_shared($1::int, hashtext($2))', [lockClass.passport, 'a']);
        await c.query('INSERT INTO passport_links (jti, parent_jti, did, client_id, sub, expires_at) VALUES ($1, $2, NULL, $3, $4, $5)', ['b', 'a', 'agent', 'p', now + 600]);
      },
      () => backend.store.lineage.revokeDescendants(['parent'], now),
    );
    expect(waited).toBe(true);
    expect(await backend.store.revocations.isRevoked('b')).toBe(true);
  });

  pgIt('a delegation revoked while a Passport is being linked under it revokes that Passport', async () => {
    await backend.store.delegations.create({ did: 'd', sub: 'p', clientId: 'bot', origin: 'passport', createdAt: now, expiresAt: now + 600 });
    const { result, waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT pg_advisory_xact_lock_shared($1::int, hashtext($2))', [lockClass.delegation, 'd']);
        await c.query('INSERT INTO passport_links (jti, parent_jti, did, client_id, sub, expires_at) VALUES ($1, NULL, $2, $3, $4, $5)', ['under-d', 'd', 'bot', 'p', now + 600]);
      },
      () => backend.store.delegations.revoke('d', 'operator', now),
    );
    expect([result, waited]).toEqual([true, true]);
    expect(await backend.store.revocations.isRevoked('under-d')).toBe(true);
  });

  pgIt('a Passport linked under a delegation whose revocation is committing is revoked at once', async () => {
    await backend.store.delegations.create({ did: 'd', sub: 'p', clientId: 'bot', origin: 'passport', createdAt: now, expiresAt: now + 600 });
    const { waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockClass.delegation, 'd']);
        await c.query('UPDATE delegations SET revoked_at = $1, revoked_by = $2 WHERE did = $3', [now, 'operator', 'd']);
      },
      () => backend.store.lineage.record({ jti: 'late-d', did: 'd', clientId: 'bot', sub: 'p', expiresAt: now + 600 }, now),
    );
    expect(waited).toBe(true);
    expect(await backend.store.revocations.isRevoked('late-d')).toBe(true);
  });

  pgIt('a report arriving while another node spends the rest of the budget is refused', async () => {
    await backend.store.delegations.create({ did: 'd', sub: 'p', clientId: 'bot', origin: 'passport', createdAt: now, expiresAt: now + 600, budget: { uses: 3 } });
    const { result, waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT 1 FROM delegations WHERE did = $1 FOR UPDATE', ['d']);
        await c.query('UPDATE delegations SET used_uses = 3 WHERE did = $1', ['d']);
      },
      () => backend.store.delegations.consume('d', { uses: 1, amountMicros: 0 }, now),
    );
    expect(waited).toBe(true);
    expect(result).toMatchObject({ status: 'exceeded', record: { used: { uses: 3 } } });
  });

  pgIt('a decision arriving while another node decides the same request settles on both decisions', async () => {
    await backend.store.approvals.create({ id: 'r', pollHash: 'poll-r', kind: 'ciba', clientId: 'bot', sub: 'p-ada', request: {}, approvers: { kind: 'dual', group: 'g', exclude: [] }, intervalSeconds: 5, createdAt: now, expiresAt: now + 300 });
    const { result, waited } = await whileOpen(
      async (c) => {
        await c.query('SELECT 1 FROM approval_requests WHERE id = $1 FOR UPDATE', ['r']);
        await c.query('INSERT INTO approval_decisions (request_id, approver_sub, approver_email, decision, decided_at) VALUES ($1, $2, NULL, $3, $4)', ['r', 'p-carol', 'approve', now]);
      },
      () => backend.store.approvals.decide('r', { approverSub: 'p-dave', decision: 'approve', decidedAt: now + 1 }, settle, now + 1),
    );
    expect(waited).toBe(true);
    expect(result).toMatchObject({ status: 'recorded', record: { status: 'approved' } });
  });
});
