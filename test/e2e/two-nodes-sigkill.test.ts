// Two Consulate processes (the compiled CLI, `consulate serve`) on one PostgreSQL database, under
// load from both sides, and node A killed with SIGKILL in the middle of it: nothing either node
// acknowledged is lost. For every 200: the Passport's receipt is in the database (by its receipt id,
// naming its jti), the receipt chain verifies end to end, and the refresh token handed out still
// redeems at B. B answers every request, before and after the kill. Real processes, because SIGKILL
// must take a whole process (its pool, its unfinished group commit) down with no chance to clean up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChainBreak } from '../../src/audit/chain.ts';
import { openPostgresStore } from '../../src/store/postgres/open.ts';
import type { AuditRecord, Store } from '../../src/store/ports.ts';
import { freshPostgresUrl, postgresUnavailable, skipPostgres } from '../setup/postgres.ts';
import { freePort } from './support/browser.ts';
import { consulateCommand } from './support/cli.ts';
import { answerOf, basicAuth, type Answer } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { addPerson, api, personTokens } from './support/delegation.ts';
import { wholeChain } from '../support/chain.ts';

const mainYaml = [
  'listen: { host: 127.0.0.1, port: 0 }',
  'passports: { ttl_seconds: 300 }',
  'keys: { reload_seconds: 0.05 }',
  'log: { level: warn }',
  'rate_limits:',
  '  client_auth_failures: { max: 100000 }',
  '  address_auth_failures: { max: 100000 }',
  '  token_requests: { max: 0 }',
  '  registrations: { max: 100000 }',
  '',
].join('\n');
const agent = { authorization: basicAuth('agent-basic', secrets['agent-basic']) };
const webApp = { authorization: basicAuth('web-app', secrets['web-app']) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A token request to the node at `url`; one that gets no answer within 10 s fails (a hang is a failure here). */
async function token(url: string, form: Record<string, string>, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return answerOf(response);
}

type Node = { url: string; child: ChildProcess };
type Outcome = { node: 'a' | 'b'; at: 'before' | 'after'; status: number; body: Record<string, unknown> } | { node: 'a' | 'b'; at: 'before' | 'after'; failed: string };

/** `consulate serve` as its own process; resolves once /readyz answers 200. */
async function serve(configDir: string, port: number, issuer: string, databaseUrl: string, dataDir: string): Promise<Node> {
  const child = spawn(...consulateCommand(['serve', '--config', configDir, '--port', String(port), '--issuer', issuer, '--database-url', databaseUrl, '--data-dir', dataDir]), {
    env: { PATH: process.env.PATH, ...fixtureEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => out.length < 4000 && (out += chunk.toString())); // its warn-level log, kept for a failure
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`consulate serve exited (${child.exitCode}): ${stderr}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
    if (ready) return { url, child };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`consulate serve on ${url} not ready within 30 s: ${stderr}${out}`);
}

const title = skipPostgres() ? `two node processes, one killed with SIGKILL mid-load (skipped: ${postgresUnavailable()})` : 'two node processes, one killed with SIGKILL mid-load';

describe.skipIf(skipPostgres())(title, () => {
  let setup: TestConsulate;
  let a: Node | undefined;
  let b: Node | undefined;
  let store: Store;
  const dataDir = mkdtempSync(join(tmpdir(), 'consulate-sigkill-'));
  const outcomes: Outcome[] = [];
  /**
   * Refresh chains: the latest refresh token a 200 handed out, and whether it is known to be unused
   * (false once a request presenting it got no answer: A may have rotated it as it died). Parked
   * chains go A, B, A and stop before the kill, holding a token only A acknowledged.
   */
  const chains: { token: string; settled: boolean; parked: boolean }[] = [];

  beforeAll(async () => {
    const databaseUrl = await freshPostgresUrl();
    const [portA, portB] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${portA}`;
    // People's refresh tokens come from codes, which only a node's own deps can issue (no browser
    // here): an in-process node on the same database makes them, then stops before the load.
    setup = await startConsulate({ files: { 'consulate.yaml': mainYaml }, env: { CONSULATE_DATABASE_URL: databaseUrl }, issuer });
    const ada = await addPerson(setup, 'ada', { email: 'ada@example.test', email_verified: true });
    for (let i = 0; i < 12; i++) chains.push({ token: (await personTokens(setup, ada)).refresh_token as string, settled: true, parked: i >= 8 });
    await setup.close();

    const started = await Promise.allSettled([serve(setup.configDir, portA, issuer, databaseUrl, dataDir), serve(setup.configDir, portB, issuer, databaseUrl, dataDir)]);
    [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const nodes = { a: a as Node, b: b as Node };
    store = await openPostgresStore(databaseUrl, { poolSize: 2 });

    // The load: client credentials at both nodes, refresh chains alternating between them.
    let killed = false;
    let stop = false;
    const call = async (node: 'a' | 'b', form: Record<string, string>, headers: Record<string, string>): Promise<Outcome> => {
      const at = killed ? 'after' : 'before';
      let outcome: Outcome;
      try {
        const response = await token(nodes[node].url, form, headers);
        outcome = { node, at, status: response.status, body: response.body };
      } catch (error) {
        outcome = { node, at, failed: String((error as { cause?: { code?: string } }).cause?.code ?? error) };
      }
      outcomes.push(outcome);
      return outcome;
    };
    const credentials = async (node: 'a' | 'b') => {
      while (!stop) {
        const outcome = await call(node, { grant_type: 'client_credentials', resource: api }, agent);
        if ('failed' in outcome) return; // A is gone: nothing more to ask it
      }
    };
    /** Refreshes `steps` times (until the load stops when unbounded), from node A on even steps while A lives. */
    const refreshing = async (chain: (typeof chains)[number], start: number, steps = Infinity) => {
      for (let step = start; step < start + steps && !stop; step++) {
        const outcome = await call(step % 2 === 0 && !killed ? 'a' : 'b', { grant_type: 'refresh_token', refresh_token: chain.token }, webApp);
        if ('failed' in outcome) {
          chain.settled = false;
          return;
        }
        if (outcome.status !== 200) return;
        chain.token = outcome.body.refresh_token as string;
      }
    };
    const live = chains.filter((c) => !c.parked);
    const load = Promise.all([
      ...Array.from({ length: 4 }, () => credentials('a')),
      ...Array.from({ length: 4 }, () => credentials('b')),
      ...live.map((chain, i) => refreshing(chain, i)),
    ]);
    await Promise.all(chains.filter((c) => c.parked).map((chain) => refreshing(chain, 0, 3)));
    await sleep(1000);

    nodes.a.child.kill('SIGKILL');
    killed = true;
    await new Promise((resolve) => (nodes.a.child.exitCode !== null || nodes.a.child.signalCode !== null ? resolve(undefined) : nodes.a.child.once('exit', resolve)));
    await sleep(1500);
    stop = true;
    await load;
  }, 60_000);

  afterAll(async () => {
    for (const node of [a, b]) if (node && node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (setup) rmSync(setup.dir, { recursive: true, force: true });
  });

  it('A died by SIGKILL under load; B answered every request, before and after, with 200', () => {
    expect(a?.child.signalCode).toBe('SIGKILL');
    const atB = outcomes.filter((o) => o.node === 'b');
    expect(atB.filter((o) => !('status' in o) || o.status !== 200).map((o) => ('status' in o ? `${o.status} ${JSON.stringify(o.body)}` : o.failed))).toEqual([]);
    expect(atB.filter((o) => o.at === 'before').length).toBeGreaterThan(0);
    expect(atB.filter((o) => o.at === 'after').length).toBeGreaterThan(10);
    const atA = outcomes.filter((o) => o.node === 'a');
    expect(atA.filter((o) => 'status' in o && o.status === 200).length).toBeGreaterThan(0);
    expect(atA.filter((o) => 'status' in o && o.status !== 200).map((o) => 'status' in o && `${o.status} ${JSON.stringify(o.body)}`)).toEqual([]);
    expect(atA.filter((o) => 'failed' in o).length, 'the kill hit no request to A').toBeGreaterThan(0);
  });

  it('every Passport either node acknowledged has its receipt, naming its jti, and the chain verifies end to end', async () => {
    const acknowledged = outcomes.filter((o): o is Extract<Outcome, { status: number }> => 'status' in o && o.status === 200);
    expect(acknowledged.filter((o) => o.node === 'a').length).toBeGreaterThan(0);
    const chain = await wholeChain(store);
    expect(findChainBreak(chain)).toBe(-1);
    expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: chain.length }, (_, i) => i + 1));
    const byId = new Map(chain.map((r) => [r.id, r]));
    const missing = acknowledged
      .map((o) => decodeJwt(o.body.access_token as string))
      .filter((claims) => byId.get(claims.receipt as string)?.tokenJti !== claims.jti)
      .map((claims) => claims.jti);
    expect(missing).toEqual([]);
  });

  it('every refresh token a 200 handed out (and not presented again unanswered) still redeems at B', async () => {
    const settled = chains.filter((c) => c.settled);
    // The parked chains hold tokens that only A acknowledged, then A was killed.
    expect(chains.filter((c) => c.parked && c.settled)).toHaveLength(4);
    for (const chain of settled) {
      const response = await token((b as Node).url, { grant_type: 'refresh_token', refresh_token: chain.token }, webApp);
      expect(response.status, response.text).toBe(200);
    }
  });
});
