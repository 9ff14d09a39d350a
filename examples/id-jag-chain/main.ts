// `npm run example:id-jag`: the ID-JAG chain alice → orchestrator → worker across two Consulates.
// Starts, from the compiled CLI (`npm run build`) with the configs of config/a and config/b in a
// temporary directory: Consulate A (`serve --demo`: its stand-in Okta too) on 127.0.0.1:8180 and
// Consulate B on 127.0.0.1:8280; then the tasks API (B's resource, guarded by the SDK) on 8290.
// It prints where alice signs in, runs the chain (chain.ts), prints each step and the final
// claims, then `consulate explain` of the worker's Passport at B and of the ID-JAG's receipt at
// A. Stops everything it started and removes the directory. Exits 0 when the worker got its tasks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runIdJagChain } from './chain.ts';
import { configFiles, defaultOrigins, exampleSecrets } from './config.ts';
import { startTasksApi, tasksResource } from './tasks-api.ts';

const cli = resolve(import.meta.dirname, '../../dist/cli/main.js');
const started: ChildProcess[] = [];

/** Writes config/<which> into `dir` and starts `consulate serve` on it; resolves once its discovery answers. */
async function startConsulate(which: 'a' | 'b', dir: string, issuer: string, demo: boolean): Promise<void> {
  for (const [name, text] of Object.entries(configFiles(which))) {
    mkdirSync(dirname(join(dir, 'config', name)), { recursive: true });
    writeFileSync(join(dir, 'config', name), text);
  }
  const child = spawn(process.execPath, [cli, 'serve', ...(demo ? ['--demo'] : []), '--config', join(dir, 'config'), '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`Consulate ${which.toUpperCase()} stopped: ${stderr.trim()}`);
    const ready = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`Consulate ${which.toUpperCase()} did not answer at ${issuer}: ${stderr.trim()}`);
}

/** `consulate explain` against one Consulate's config and data, printed as it comes. */
function explain(dir: string, what: string): Promise<void> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [cli, 'explain', what, '--config', join(dir, 'config'), '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', () => done());
  });
}

async function main(): Promise<number> {
  if (!existsSync(cli)) {
    console.error(`${cli} is missing: run npm run build first.`);
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'consulate-id-jag-'));
  const [dirA, dirB] = [join(work, 'a'), join(work, 'b')];
  const tasks = await startTasksApi({ issuer: defaultOrigins.b, port: 8290 }).catch((error: unknown) => {
    console.error(`The tasks API could not listen on 127.0.0.1:8290 (${error instanceof Error ? error.message : String(error)}).`);
    return undefined;
  });
  try {
    if (!tasks) return 1;
    await startConsulate('a', dirA, defaultOrigins.a, true);
    await startConsulate('b', dirB, defaultOrigins.b, false);
    console.log(`Consulate A ${defaultOrigins.a} (stand-in Okta ${defaultOrigins.okta}), Consulate B ${defaultOrigins.b}, tasks API ${tasks.url}\n`);

    const result = await runIdJagChain({
      aIssuer: defaultOrigins.a,
      bIssuer: defaultOrigins.b,
      app: { clientId: 'chain-app', clientSecret: exampleSecrets.app, redirectUri: `${defaultOrigins.app}/callback` },
      orchestratorAtA: { clientId: 'orchestrator', clientSecret: exampleSecrets.orchestratorAtA },
      orchestratorAtB: { clientId: 'orchestrator', clientSecret: exampleSecrets.orchestratorAtB },
      worker: { clientId: 'worker', clientSecret: exampleSecrets.worker },
      resource: tasksResource,
      tasksUrl: tasks.url,
      signIn: async (url) => console.log(`\n   Open this address in your browser and sign in as alice@example.com (any password):\n\n   ${url.href}\n`),
    });

    console.log(`\nThe worker's Passport at B, in full:\n${JSON.stringify(result.worker.claims, null, 2)}`);
    console.log(`\n$ consulate explain <the worker's Passport>   (at B)`);
    await explain(dirB, result.worker.token);
    const receiptAtA = result.idJag.claims.receipt;
    if (typeof receiptAtA === 'string') {
      console.log(`\n$ consulate explain ${receiptAtA}   (at A: the ID-JAG's receipt)`);
      await explain(dirA, receiptAtA);
    }
    return result.tasks.status === 200 ? 0 : 1;
  } catch (error) {
    console.error(`\nThe chain stopped: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await tasks?.close();
    await Promise.all(started.map((child) => (child.exitCode !== null ? undefined : new Promise((done) => (child.once('close', done), child.kill('SIGTERM'))))));
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
